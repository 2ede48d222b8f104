import { strict as assert } from 'node:assert';
import { unpauseStuck, withDeadline } from '../../src/docker/dockerode-client';

describe('a Docker call that never answers', () => {
  it('an unpause stuck behind a frozen exec fails after its deadline with what to do, instead of hanging the heal', async () => {
    const never = new Promise<void>(() => undefined);
    const id = 'e990314470bb86c8b758aec625826c9274f9918b2ccb9ad53204c857294d1a35';
    await assert.rejects(
      withDeadline(never, 20, () => unpauseStuck(id)),
      (err: Error) => {
        assert.match(err.message, /^Docker did not unpause container e990314470bb in 60 s/);
        assert.match(
          err.message,
          /echo THAWED > \/sys\/fs\/cgroup\/freezer\/docker\/e990314470bb86c8b758aec625826c9274f9918b2ccb9ad53204c857294d1a35\/freezer\.state/,
        );
        return true;
      },
    );
  });

  it('an answer (or Docker’s own error) before the deadline passes through', async () => {
    assert.equal(await withDeadline(Promise.resolve(7), 1000, () => new Error('late')), 7);
    await assert.rejects(
      withDeadline(Promise.reject(new Error('container not paused')), 1000, () => new Error('late')),
      /container not paused/,
    );
  });
});
