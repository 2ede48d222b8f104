/**
 * `npm run lab -- export --format compose [...]`: the lab as a Compose file (./compose.ts).
 *
 * An existing lab is exported as it is: its topology, host ports, secrets, HAProxy profile and
 * images (its Moodle image too). Without a lab of that name, the options describe one
 * (`--topology`, `--web`, `--haproxy`, `--port`, `--base-image`, `--moodle-source`; without a
 * source, no Moodle: the web nodes serve the lab's probes), with new secrets and free host ports (`--port 0`: Docker picks each
 * host port when the project starts, none can be taken by then).
 *
 * Secrets are inline by default (the file alone is enough: `export ... > compose.yaml`);
 * `--secrets-file PATH` writes them to PATH as a Compose env file (mode 0600) and the file refers
 * to them as variables (`docker-compose --env-file PATH -f compose.yaml up -d`). The option is not
 * called --env-file: Node 20 takes `--env-file` anywhere on its command line as its own option.
 * Images are the lab's own tags; missing ones are built with `--build` (they then carry the lab's
 * name label: `destroy --lab <lab>` removes them), else the command refuses and says how.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DockerClient } from '../docker/types';
import { HAPROXY_PROFILES, HaproxyProfile } from '../roles/haproxy';
import { contextFiles, contextHash, DEFAULT_BASE_IMAGE, ImageBuilder, imageTag } from '../engine/images';
import { labLabels } from '../docker/labels';
import { choosePort, isLoopbackPortFree, PortProbe } from '../engine/ports';
import { LabSecrets, newSecrets, StateStore } from '../engine/state';
import { buildTopology, MAX_WEB_NODES, nodesOf, Role, roleSpec, Topology } from '../engine/topology';
import { loadLabFile, topologyRefProblem } from '../scenarios/lab-file';
import { ensureMoodleImage, MOODLE_CONTEXT, moodleImageTag } from '../engine/moodle-image';
import { WEB_PHP_VERSION } from '../moodle/install';
import { checkPluginDependencies } from '../moodle/plugins';
import { resolveMoodleSource } from '../moodle/source';
import type { MoodleSource } from '../moodle/types';
import { composeRefusal, renderCompose } from './compose';
import { errText } from '../core/errors';
import { moodleRole, roleModules } from '../roles';

export const EXPORT_FORMATS = ['compose'] as const;

export const EXPORT_OPTIONS = {
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'secrets-file': { type: 'string' },
  build: { type: 'boolean' },
} as const;

export interface ExportValues {
  format?: string;
  output?: string;
  'secrets-file'?: string;
  build?: boolean;
  topology?: string;
  web?: string;
  haproxy?: string;
  port?: string;
  'base-image'?: string;
  'moodle-source'?: string;
  'no-moodle'?: boolean;
}

export interface ExportDeps {
  docker: DockerClient;
  store: StateStore;
  labRoot: string;
  lab: string;
  portProbe?: PortProbe;
}

interface ExportIo {
  out(text: string): void;
  err(text: string): void;
}

interface Plan {
  topology: Topology;
  baseImage: string;
  ports: Record<string, number>;
  secrets: LabSecrets;
  haproxyProfile: HaproxyProfile;
  moodle?: { image: string; layout: 'public' | 'legacy' };
  /** A new lab: its host ports are chosen from this (--port; -1: the defaults; 0: Docker's) by choosePorts. */
  choosePortsFrom?: number;
  /** A new lab's Moodle source: its image is made from the web image (see imagesFor). */
  moodleSource?: MoodleSource;
}

async function planFor(values: ExportValues, deps: ExportDeps, io: ExportIo, usageError: (m: string) => Error): Promise<Plan> {
  const state = deps.store.load(deps.lab);
  const describing = (['topology', 'web', 'haproxy', 'port', 'base-image', 'moodle-source'] as const).filter((k) => values[k] !== undefined);
  if (state) {
    if (describing.length) {
      throw usageError(
        `lab "${deps.lab}" exists: its export is the lab as it is, so --${describing.join(', --')} cannot change it (use another --lab name to describe a new one)`,
      );
    }
    if (values['no-moodle'] && state.extra.moodle) throw usageError(`lab "${deps.lab}" has Moodle: --no-moodle cannot remove it (use another --lab name)`);
    const m = state.extra.moodle;
    return {
      topology: buildTopology(state.definition),
      baseImage: state.baseImage,
      ports: { ...state.ports },
      secrets: { ...newSecrets(), ...state.secrets },
      haproxyProfile: state.extra.haproxyProfile ?? 'tuned',
      moodle: m ? { image: m.image, layout: m.layout } : undefined,
    };
  }
  // A built-in's name or a lab file (lab/topologies/ holds the built-ins' files).
  const badRef = values.topology !== undefined ? topologyRefProblem(values.topology, deps.labRoot) : undefined;
  if (badRef) throw usageError(badRef);
  const definition = values.topology !== undefined ? loadLabFile(values.topology, deps.labRoot) : 'ha';
  const profile = (values.haproxy ?? 'tuned') as HaproxyProfile;
  if (!HAPROXY_PROFILES.includes(profile)) throw usageError(`--haproxy must be one of ${HAPROXY_PROFILES.join(', ')}`);
  let webCount: number | undefined;
  if (values.web !== undefined) {
    webCount = Number(values.web);
    if (!(/^\d+$/.test(values.web) && webCount >= 1 && webCount <= MAX_WEB_NODES)) throw usageError(`--web must be a whole number from 1 to ${MAX_WEB_NODES}`);
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!(/^\d+$/.test(values.port) && port <= 65535)) throw usageError('--port must be a TCP port number (0: Docker picks every host port)');
  }
  let topology: Topology;
  try {
    topology = buildTopology(definition, webCount);
  } catch (err) {
    throw usageError(errText(err));
  }
  if (port === 0 && values['moodle-source']) throw usageError('--port 0 cannot go with Moodle: its wwwroot names the host port');
  let moodleSource: MoodleSource | undefined;
  if (values['moodle-source']) {
    moodleSource = await resolveMoodleSource(values['moodle-source'], {
      cacheDir: path.join(deps.store.home, 'cache'),
      phpVersion: WEB_PHP_VERSION,
      progress: (m) => io.err(`${m}\n`),
    });
    await checkPluginDependencies(moodleSource);
  }
  return {
    topology,
    baseImage: values['base-image'] ?? DEFAULT_BASE_IMAGE,
    ports: {},
    choosePortsFrom: port ?? -1,
    secrets: newSecrets(),
    haproxyProfile: profile,
    moodleSource,
  };
}

/**
 * A new lab's host ports: the defaults (the moodle one from --port), or the next free ones on
 * 127.0.0.1. Chosen last (after any build), so the window in which another program can take one
 * before `docker-compose up` is as short as the export allows. --port 0: Docker picks them all at
 * `up` (`docker-compose port haproxy 80` tells which).
 */
async function choosePorts(plan: Plan, probe: PortProbe): Promise<void> {
  if (plan.choosePortsFrom === undefined) return;
  const taken = new Set<number>();
  for (const n of plan.topology.nodes) {
    for (const p of n.ports) {
      if (p.publish !== 'preferred') continue;
      if (plan.choosePortsFrom === 0) {
        plan.ports[p.name] = 0;
        continue;
      }
      const wanted = p.name === 'moodle' && plan.choosePortsFrom > 0 ? plan.choosePortsFrom : (p.defaultHostPort ?? 0);
      plan.ports[p.name] = await choosePort(wanted, taken, probe);
      taken.add(plan.ports[p.name]!);
    }
  }
}

/** The lab's image tag per role; missing ones built with `build`, else one clear error naming what to run. */
async function imagesFor(plan: Plan, deps: ExportDeps, build: boolean, io: ExportIo): Promise<Map<Role, string>> {
  const tags = new Map<Role, string>();
  const missing: string[] = [];
  const builder = new ImageBuilder(deps.docker, deps.labRoot);
  for (const role of new Set(plan.topology.nodes.map((n) => n.role))) {
    const name = roleSpec(role).image;
    // A Moodle lab's web nodes run its Moodle image (checked below), not the plain web image.
    if (roleSpec(role).runsMoodle && plan.moodle) continue;
    if (build) {
      const { tag, built } = await builder.ensure(deps.lab, { name }, plan.baseImage, (l) => io.err(`${l}\n`), { labels: labLabels(deps.lab) });
      if (built) io.err(`built ${tag}\n`);
      tags.set(role, tag);
      continue;
    }
    const dir = path.join(deps.labRoot, name);
    const tag = imageTag(name, contextHash(dir, contextFiles(dir), { BASE_IMAGE: plan.baseImage }));
    if (!(await deps.docker.images.exists(tag))) missing.push(tag);
    tags.set(role, tag);
  }
  const moodleOn = moodleRole();
  if (plan.moodleSource && tags.has(moodleOn)) {
    const source = plan.moodleSource;
    const webTag = tags.get(moodleOn)!;
    const image = build
      ? await ensureMoodleImage(deps.docker, deps.lab, deps.labRoot, webTag, source, { step: (m) => io.err(`${m}\n`), detail: () => undefined })
      : moodleImageTag(webTag, path.join(deps.labRoot, MOODLE_CONTEXT), source);
    plan.moodle = { image, layout: source.layout };
    if (!build && !missing.includes(webTag) && !(await deps.docker.images.exists(image))) missing.push(image);
    tags.set(moodleOn, image);
  } else if (plan.moodle) {
    if (!(await deps.docker.images.exists(plan.moodle.image))) missing.push(plan.moodle.image);
    tags.set(moodleOn, plan.moodle.image);
  }
  if (missing.length) {
    const moodleGone = plan.moodle && !plan.moodleSource && missing.includes(plan.moodle.image);
    throw new Error(
      `the export names images that do not exist here: ${missing.join(', ')}. ` +
        (moodleGone
          ? `Rebuild the lab's Moodle image with \`npm run lab -- up --lab ${deps.lab} --moodle-source <the same source>\``
          : `Build them with \`npm run lab -- export --build ...\` (or \`npm run lab -- up --lab ${deps.lab}\`)`),
    );
  }
  return tags;
}

/** Writes a file readable by its owner only (it may hold secrets), replacing it atomically. */
function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export async function exportCommand(
  positionals: string[],
  values: ExportValues,
  deps: ExportDeps,
  io: ExportIo,
  usageError: (m: string) => Error,
): Promise<number> {
  if (positionals.length) throw usageError(`export takes no arguments (got "${positionals.join(' ').slice(0, 80)}")`);
  if (values.format === undefined) throw usageError(`export needs --format (one of: ${EXPORT_FORMATS.join(', ')})`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(values.format)) throw usageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  if (values['moodle-source'] && values['no-moodle']) throw usageError('--moodle-source and --no-moodle exclude each other');
  for (const k of ['output', 'secrets-file'] as const) {
    const f = values[k];
    if (f !== undefined && (!f.trim() || !fs.existsSync(path.dirname(path.resolve(f))))) throw usageError(`--${k}: the folder of "${f}" does not exist`);
  }
  if (values.output && values['secrets-file'] && path.resolve(values.output) === path.resolve(values['secrets-file']))
    throw usageError('--output and --secrets-file must be different files');
  await deps.docker.ping();
  const plan = await planFor(values, deps, io, usageError);
  // Fixed addresses (a keepalived pair's VIP and peers) need the engine's address plan and
  // NET_ADMIN on the pair: the Compose export refuses them rather than write a lab that half works.
  const fixed = roleModules().filter((m) => nodesOf(plan.topology, m.role).length && m.fixedAddresses?.(plan.topology).length);
  if (fixed.length) {
    throw usageError(
      `the Compose export does not support a topology with fixed addresses on the lab network (${fixed.map((m) => m.role).join(', ')}: a keepalived pair's virtual IP): run it with \`up\` instead`,
    );
  }
  const refusal = composeRefusal(plan.topology);
  if (refusal) throw usageError(refusal);
  const images = await imagesFor(plan, deps, Boolean(values.build), io);
  await choosePorts(plan, deps.portProbe ?? isLoopbackPortFree);
  const { yaml, envFile } = renderCompose({
    lab: deps.lab,
    topology: plan.topology,
    images,
    ports: plan.ports,
    secrets: plan.secrets,
    haproxyProfile: plan.haproxyProfile,
    moodle: plan.moodle ? { layout: plan.moodle.layout } : undefined,
    secretsAsVariables: values['secrets-file'] !== undefined,
  });
  if (values['secrets-file'] && envFile !== undefined) writePrivate(values['secrets-file'], envFile);
  if (values.output) {
    writePrivate(values.output, yaml);
    io.err(`wrote ${values.output}${values['secrets-file'] ? ` and ${values['secrets-file']} (secrets)` : ''}\n`);
  } else {
    io.out(yaml);
  }
  return 0;
}
