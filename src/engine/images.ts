/**
 * Images from the build contexts under lab/<role>/, all FROM one base image, tagged by a
 * content hash of the context (and the base image name), so an unchanged context is never
 * rebuilt. The tag names no lab (`moodle-lab/<name>:<hash>`): every lab whose context is the
 * same runs the same image, and a new lab finds it built. The labels are those of the lab that
 * built it. Builds go through the Engine API; a failed build rejects with the build's own error.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DockerClient, Labels } from '../docker/types';
import { labLabels } from '../docker/labels';
import { errText } from '../core/errors';

export const DEFAULT_BASE_IMAGE = 'debian:trixie-slim';

/** Every file of a context, relative, sorted (stable across machines). */
export function contextFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(r);
      else if (entry.isFile()) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** sha256 over names, modes and contents of the context plus the build arguments. */
export function contextHash(dir: string, files: string[], buildArgs: Record<string, string>): string {
  const h = createHash('sha256');
  for (const f of files) {
    const full = path.join(dir, f);
    const executable = (fs.statSync(full).mode & 0o111) !== 0;
    h.update(`${f}\0${executable ? 'x' : '-'}\0`);
    h.update(fs.readFileSync(full));
    h.update('\0');
  }
  for (const [k, v] of Object.entries(buildArgs).sort()) h.update(`arg:${k}=${v}\0`);
  return h.digest('hex').slice(0, 16);
}

/** The repository of every lab image: tags are shared by content, not per lab. */
export const IMAGE_REPO = 'moodle-lab';

export function imageTag(name: string, hash: string): string {
  return `${IMAGE_REPO}/${name}:${hash}`;
}

/** A tag of the shared, content-named kind (older versions tagged images `<lab>/<name>:<hash>`). */
export function isSharedImageTag(tag: string): boolean {
  return tag.startsWith(`${IMAGE_REPO}/`);
}

export interface ImageRequest {
  /** Folder name under lab/. */
  name: string;
  buildArgs?: Record<string, string>;
}

export class ImageBuilder {
  constructor(
    private readonly docker: DockerClient,
    private readonly labRoot: string,
  ) {}

  /**
   * The tag for the context as it is now, building it only when that tag does not exist yet
   * (whichever lab built it). `labels`: the lab's labels for a new image (its name and id);
   * default its name only.
   */
  async ensure(
    lab: string,
    req: ImageRequest,
    baseImage: string,
    progress: (line: string) => void,
    opts: { rebuild?: boolean; labels?: Labels } = {},
  ): Promise<{ tag: string; built: boolean }> {
    const dir = path.join(this.labRoot, req.name);
    if (!fs.existsSync(path.join(dir, 'Dockerfile'))) throw new Error(`no build context for "${req.name}" at ${dir}`);
    const buildArgs = { BASE_IMAGE: baseImage, ...(req.buildArgs ?? {}) };
    const files = contextFiles(dir);
    const tag = imageTag(req.name, contextHash(dir, files, buildArgs));
    if (!opts.rebuild && (await this.docker.images.exists(tag))) return { tag, built: false };
    if (!(await this.docker.images.exists(baseImage))) {
      throw new Error(`base image ${baseImage} is missing: run \`docker pull ${baseImage}\` (or lab/base/build-base-image.sh where no registry is reachable)`);
    }
    progress(`building image ${tag}`);
    try {
      await this.docker.images.build(dir, files, { tag, labels: opts.labels ?? labLabels(lab), buildArgs, noCache: opts.rebuild }, (line) =>
        progress(`[${req.name}] ${line}`),
      );
    } catch (err) {
      throw new Error(`building the ${req.name} image failed: ${errText(err)}`);
    }
    return { tag, built: true };
  }
}
