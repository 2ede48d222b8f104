/**
 * The Moodle web image: the web image plus one Moodle source, baked in (identical on every web
 * node, read-only at run time) with the lab's config.php. The build context is streamed: the
 * files of lab/moodle/ plus the source under moodle/, never copied to disk first. The tag
 * hashes the web image tag, lab/moodle/ and the source's content fingerprint, so a new source
 * (or a changed web image) gives a new image and an unchanged one is never rebuilt, whichever
 * lab built it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import type { DockerClient } from '../docker/types';
import { contextFiles, contextHash, imageTag } from './images';
import { labLabels } from '../docker/labels';
import { listTree } from '../moodle/fingerprint';
import type { MoodleSource } from '../moodle/types';
import { errText } from '../core/errors';

export const MOODLE_CONTEXT = 'moodle';

function entry(pack: tarStream.Pack, header: tarStream.Headers, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, body ?? '', (err?: Error | null) => (err ? reject(err) : resolve()));
  });
}

/** A tar stream: lab/moodle/'s files at the top, the Moodle tree under moodle/. */
export function moodleBuildContext(contextDir: string, source: MoodleSource): Readable {
  const pack = tarStream.pack();
  (async () => {
    for (const f of contextFiles(contextDir)) {
      const full = path.join(contextDir, f);
      await entry(pack, { name: f, mode: fs.statSync(full).mode & 0o777 }, fs.readFileSync(full));
    }
    for (const e of listTree(source.root).entries) {
      const name = `moodle/${e.rel}`;
      // The source's own config.php is refused earlier; never let one into the image.
      if (e.rel === 'config.php') continue;
      if (e.link) await entry(pack, { name, type: 'symlink', linkname: fs.readlinkSync(e.full) });
      else await entry(pack, { name, mode: fs.statSync(e.full).mode & 0o755 }, fs.readFileSync(e.full));
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack;
}

/** Named by content like the role images (./images.ts): a second lab of the same source reuses it. */
export function moodleImageTag(webTag: string, contextDir: string, source: MoodleSource): string {
  const h = createHash('sha256')
    .update(webTag)
    .update('\0')
    .update(contextHash(contextDir, contextFiles(contextDir), {}))
    .update('\0')
    .update(source.fingerprint);
  return imageTag(MOODLE_CONTEXT, h.digest('hex').slice(0, 16));
}

export async function ensureMoodleImage(
  docker: DockerClient,
  lab: string,
  labRoot: string,
  webTag: string,
  source: MoodleSource,
  progress: { step(m: string): void; detail(m: string): void },
  /** The lab's labels (its name and id); default: the name only. */
  labels: Record<string, string> = labLabels(lab),
): Promise<string> {
  const contextDir = path.join(labRoot, MOODLE_CONTEXT);
  const tag = moodleImageTag(webTag, contextDir, source);
  if (await docker.images.exists(tag)) return tag;
  progress.step(`building image ${tag} (Moodle ${source.release})`);
  try {
    await docker.images.buildContext(
      moodleBuildContext(contextDir, source),
      { tag, labels, buildArgs: { WEB_IMAGE: webTag, MOODLE_DOCROOT: source.layout === 'public' ? 'public' : '.' } },
      (l) => progress.detail(`[moodle] ${l}`),
    );
  } catch (err) {
    throw new Error(`building the Moodle image failed: ${errText(err)}`);
  }
  return tag;
}
