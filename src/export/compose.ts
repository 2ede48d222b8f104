/**
 * The lab as a Compose file (`npm run lab -- export --format compose`): the same images, network,
 * volumes, capabilities, devices, health checks and start order, for people who want the
 * architecture without this tool (and for `docker stack deploy`, which reads Compose).
 *
 * What the engine does imperatively, the file does declaratively (each entrypoint's part is
 * switched on by an environment variable the engine never sets):
 * - HAProxy's rendered configuration travels in HAPROXY_CFG (Compose `configs` with inline
 *   `content` is unknown to docker-compose 1.29);
 * - galera1 bootstraps a new cluster by itself (GALERA_BOOTSTRAP_AUTO=1: only from an empty
 *   datadir or with safe_to_bootstrap: 1); galera2 joins once galera1 is healthy (Synced), galera3
 *   once galera2 is: one SST at a time, like the engine;
 * - gluster1 creates and starts the replicated volume itself once its peers answer
 *   (LAB_VOLUME_SETUP); its health check passes only then, and the web nodes wait for it;
 * - with Moodle, a one-shot `moodle-install` service runs the engine's install scripts, only into
 *   an empty database (the site cache of the engine is not part of the export).
 * Network-fault sidecars are not exported. No object carries the lab's io.moodle-lab.* labels, so
 * the lab's own `destroy` never touches a Compose deployment (Compose labels its own objects with
 * com.docker.compose.project). Host ports bind 127.0.0.1 only.
 */
import { Document, isScalar, visit } from 'yaml';
import { DB_NAME, GLUSTER_VOLUME, MOODLEDATA, nodeEnv } from '../engine/env';
import { HaproxyProfile, renderHaproxyConfig } from '../roles/haproxy';
import type { LabSecrets, LabState } from '../engine/state';
import { NodeSpec, nodesOf, Role, roleOptions, Topology } from '../engine/topology';
import { ADMIN_PASSWORD_ENV, ADMIN_USER, LAB_SCRIPTS, MOODLE_ROOT, TEST_COURSE, TEST_COURSE_SIZE, TEST_FILE_SIZE_LIMIT } from '../moodle/install';

/** The lab's network inside the Compose project (Compose names it `<project>_lab`). */
export const COMPOSE_NETWORK = 'lab';
export const MOODLE_INSTALL_SERVICE = 'moodle-install';
/** Written by gluster1's entrypoint once lab-volume-setup succeeded (lab/gluster/entrypoint.sh). */
export const VOLUME_READY_MARKER = '/run/lab-volume-ready';

/**
 * Each image's own HEALTHCHECK command (lab/<role>/Dockerfile; a unit test keeps them equal).
 * The Compose file repeats them with more patient timing: Compose (`depends_on: service_healthy`)
 * gives up on a dependency that turns unhealthy, and on a loaded host a check can take longer
 * than the image's 3 s (a first SST minutes). A success still marks a container healthy at once.
 */
export const IMAGE_HEALTHCHECKS: Partial<Record<Role, string[]>> = {
  db: ['/usr/local/bin/clustercheck', '--quiet'],
  storage: ['timeout', '3', 'gluster', '--mode=script', 'peer', 'status'],
  lb: ['curl', '-fsS', '-o', '/dev/null', '--max-time', '2', 'http://127.0.0.1:8404/stats'],
  cache: ['bash', '-c', 'REDISCLI_AUTH="$REDIS_PASSWORD" timeout 2 redis-cli -h 127.0.0.1 ping | grep -qx PONG'],
  web: ['curl', '-fsS', '-o', '/dev/null', '--max-time', '2', 'http://127.0.0.1/lab/health.php'],
  arbitrator: ['pgrep', '-x', 'garbd'],
};
const START_PERIOD = '600s';

/** Secrets as Compose variables (`--secrets-file`): names in the env file it writes. */
export const SECRET_VARS: Record<keyof LabSecrets, string> = {
  dbRootPassword: 'LAB_DB_ROOT_PASSWORD',
  dbPassword: 'LAB_DB_PASSWORD',
  redisPassword: 'LAB_REDIS_PASSWORD',
  moodleAdminPassword: 'LAB_MOODLE_ADMIN_PASSWORD',
  moodleUsersPassword: 'LAB_MOODLE_USERS_PASSWORD',
};

export interface ComposeInput {
  /** The lab's name (Galera's cluster name, Moodle's site name). */
  lab: string;
  topology: Topology;
  /** Image tag per role (web: the Moodle image when `moodle` is set). */
  images: Map<Role, string>;
  /** Host ports by name (`moodle`, `stats`, `runtime`). */
  ports: Record<string, number>;
  secrets: LabSecrets;
  haproxyProfile: HaproxyProfile;
  /** The web image holds Moodle: add the one-shot install service. */
  moodle?: { layout: 'public' | 'legacy' };
  /** Secrets as `${VAR}` references (their values go to an env file) instead of inline values. */
  secretsAsVariables?: boolean;
}

export interface ComposeOutput {
  yaml: string;
  /** `VAR=value` lines for the env file (only with `secretsAsVariables`). */
  envFile?: string;
}

/** A Compose variable reference: written as `${NAME:?...}`, never escaped. */
class VarRef {
  constructor(readonly name: string) {}
  toString(): string {
    return `\${${this.name}:?set ${this.name} (the env file written by the export)}`;
  }
}
type Value = string | VarRef;

type Service = Record<string, unknown>;

function imageHealthcheck(role: Role): string[] {
  const cmd = IMAGE_HEALTHCHECKS[role];
  if (!cmd) throw new Error(`the compose export has no healthcheck for the ${role} role yet`);
  return cmd;
}

function healthcheck(role: Role, test: string[] = ['CMD', ...imageHealthcheck(role)]): Record<string, unknown> {
  return { test, interval: '5s', timeout: '20s', retries: 10, start_period: START_PERIOD };
}

function healthy(...services: string[]): Record<string, { condition: string }> {
  return Object.fromEntries(services.map((s) => [s, { condition: 'service_healthy' }]));
}

function tmpfsList(node: NodeSpec): string[] {
  return Object.entries(node.spec.tmpfs).map(([p, opts]) => (opts ? `${p}:${opts}` : p));
}

/** Every literal `$` doubled (Compose interpolates strings); VarRefs become `${NAME:?...}`. */
function escapeForCompose(v: unknown): unknown {
  if (v instanceof VarRef) return v.toString();
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$');
  if (Array.isArray(v)) return v.map(escapeForCompose);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeForCompose(x)]));
  return v;
}

/** The node's environment as the engine gives it, with the secrets swapped for references when asked. */
function environment(node: NodeSpec, input: ComposeInput, state: LabState): Record<string, Value> {
  const env: Record<string, Value> = { ...nodeEnv(node, input.topology, state) };
  if (input.secretsAsVariables) {
    for (const [k, v] of Object.entries(env)) {
      const secret = (Object.keys(SECRET_VARS) as (keyof LabSecrets)[]).find((s) => v !== '' && input.secrets[s] === v);
      if (secret) env[k] = new VarRef(SECRET_VARS[secret]);
    }
  }
  return env;
}

function ports(node: NodeSpec, input: ComposeInput): string[] {
  return node.ports.map((p) => {
    const host = p.publish === 'preferred' ? input.ports[p.name] : undefined;
    return host ? `127.0.0.1:${host}:${p.container}` : `127.0.0.1::${p.container}`;
  });
}

/**
 * The one-shot Moodle install, run by the web entrypoint once env.php and moodledata are in place.
 * The site's state decides: no tables yet (install, then Moodle's caches in Redis and the test
 * course), installed without the test course (those two only), complete (nothing). A database
 * with tables but no finished install (`rolesactive` is set last by Moodle's installer) fails
 * with what to do: the installer cannot resume, and installing over it would mix two sites.
 */
function moodleInstallScript(input: ComposeInput, layoutPublic: boolean): string {
  const generator = `${MOODLE_ROOT}/${layoutPublic ? 'public/' : ''}admin/tool/generator/cli/maketestcourse.php`;
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'set -euo pipefail',
    "cat >/tmp/lab-site-state.php <<'PHP'",
    '<?php',
    '$e = require "/etc/moodle-lab/env.php";',
    '$db = new mysqli($e["DB_HOST"], $e["DB_USER"], $e["DB_PASSWORD"], $e["DB_NAME"], (int) $e["DB_PORT"]);',
    'if ($db->query("SHOW TABLES LIKE \'mdl\\\\_config\'")->num_rows === 0) { echo "empty"; exit; }',
    '$r = $db->query("SELECT value FROM mdl_config WHERE name = \'rolesactive\'")->fetch_row();',
    'if (!$r || $r[0] !== "1") { echo "partial"; exit; }',
    `echo $db->query("SELECT id FROM mdl_course WHERE shortname = '${TEST_COURSE}'")->num_rows > 0 ? "complete" : "installed";`,
    'PHP',
    'state=$(php /tmp/lab-site-state.php)',
    'echo "moodle-install: the database holds: $state"',
    'case $state in',
    '  complete) echo "moodle-install: nothing to do"; exit 0 ;;',
    `  partial) echo "moodle-install: ${DB_NAME} holds a half-finished install (the installer stopped): remove the project's volumes (docker-compose down -v) and start again" >&2; exit 1 ;;`,
    `  empty) runuser -u www-data -- env ${ADMIN_PASSWORD_ENV}="$${ADMIN_PASSWORD_ENV}" php ${LAB_SCRIPTS}/install-database.php --agree-license --lang=en --adminuser=${ADMIN_USER} --adminemail=admin@moodle-lab.invalid ${q(`--fullname=Moodle HA Lab (${input.lab})`)} --shortname=moodlelab ${q('--summary=A Moodle HA Lab cluster')} ;;`,
    'esac',
    `runuser -u www-data -- php ${LAB_SCRIPTS}/muc-redis.php`,
    `runuser -u www-data -- php ${generator} --shortname=${TEST_COURSE} ${q('--fullname=Moodle HA Lab course')} --size=${TEST_COURSE_SIZE} --fixeddataset --filesizelimit=${TEST_FILE_SIZE_LIMIT} --bypasscheck --quiet`,
    'echo "moodle-install: done"',
  ].join('\n');
}

/**
 * Why a topology has no Compose export, or undefined. A Sentinel lab's HAProxy authenticates its
 * Redis check with the password written into its configuration, which the export keeps in a
 * variable of the env file: not exported rather than half-working.
 */
export function composeRefusal(topology: Topology): string | undefined {
  if (roleOptions(topology, 'cache').mode === 'sentinel')
    return 'the Compose export does not support Redis Sentinel topologies (cache mode sentinel) yet: run the lab with `up` instead';
  return undefined;
}

/** Renders the Compose file (and, with `secretsAsVariables`, its env file). */
export function renderCompose(input: ComposeInput): ComposeOutput {
  const { topology } = input;
  // nodeEnv reads the lab's state; only these fields of it.
  const state = { lab: input.lab, secrets: input.secrets, ports: input.ports } as LabState;
  const services: Record<string, Service> = {};
  const volumes: Record<string, Record<string, never>> = {};
  const image = (role: Role) => {
    const tag = input.images.get(role);
    if (!tag) throw new Error(`no image for role ${role}`);
    return tag;
  };

  const db = nodesOf(topology, 'db');
  const storage = nodesOf(topology, 'storage');
  const lb = nodesOf(topology, 'lb');
  const cache = nodesOf(topology, 'cache');
  const web = nodesOf(topology, 'web');

  const base = (node: NodeSpec): Service => {
    const s: Service = {
      image: image(node.role),
      hostname: node.name,
      init: true,
      stop_grace_period: `${node.spec.stopTimeoutS}s`,
      networks: [COMPOSE_NETWORK],
    };
    const env = environment(node, input, state);
    if (Object.keys(env).length) s.environment = env;
    if (node.spec.volumes.length) {
      s.volumes = node.spec.volumes.map((v) => {
        const name = `${node.name}-${v.suffix}`;
        volumes[name] = {};
        return `${name}:${v.path}`;
      });
    }
    const tmpfs = tmpfsList(node);
    if (tmpfs.length) s.tmpfs = tmpfs;
    if (node.spec.capAdd.length) s.cap_add = [...node.spec.capAdd];
    if (node.spec.devices.length) s.devices = node.spec.devices.map((d) => `${d}:${d}:rwm`);
    const published = ports(node, input);
    if (published.length) s.ports = published;
    s.healthcheck = healthcheck(node.role);
    return s;
  };

  for (const n of lb) {
    const s = base(n);
    s.environment = { ...(s.environment as object), HAPROXY_CFG: renderHaproxyConfig(topology, input.haproxyProfile) };
    services[n.name] = s;
  }
  db.forEach((n, i) => {
    const s = base(n);
    if (i === 0) s.environment = { ...(s.environment as object), GALERA_BOOTSTRAP_AUTO: '1' };
    // Joiners one at a time, each once the previous node is Synced (the engine's sequential start).
    else s.depends_on = healthy(db[i - 1]!.name);
    services[n.name] = s;
  });
  storage.forEach((n, i) => {
    const s = base(n);
    if (i === 0) {
      s.environment = { ...(s.environment as object), LAB_VOLUME_SETUP: [GLUSTER_VOLUME, ...storage.map((x) => x.name)].join(' '), LAB_SETUP_TIMEOUT: '900' };
      s.healthcheck = healthcheck(n.role, ['CMD-SHELL', `test -f ${VOLUME_READY_MARKER} && ${imageHealthcheck('storage').join(' ')} >/dev/null`]);
    }
    services[n.name] = s;
  });
  for (const n of cache) services[n.name] = base(n);
  // Web nodes start once everything they use is ready (ROLES.web.dependsOn): HAProxy, every
  // Galera node Synced, the Gluster volume started (gluster1's health), Redis.
  const webDeps = [...lb, ...db, ...storage, ...cache].map((n) => n.name);
  for (const n of web) {
    const s = base(n);
    if (webDeps.length) s.depends_on = healthy(...webDeps);
    services[n.name] = s;
  }
  if (input.moodle && web.length) {
    const first = web[0]!;
    const s = base(first);
    delete s.ports;
    s.healthcheck = { disable: true };
    s.hostname = MOODLE_INSTALL_SERVICE;
    s.environment = {
      ...(s.environment as object),
      LAB_NODE: MOODLE_INSTALL_SERVICE,
      [ADMIN_PASSWORD_ENV]: input.secretsAsVariables ? new VarRef(SECRET_VARS.moodleAdminPassword) : input.secrets.moodleAdminPassword,
    };
    s.command = ['bash', '-c', moodleInstallScript(input, input.moodle.layout === 'public')];
    s.restart = 'no';
    s.depends_on = healthy(...webDeps);
    services[MOODLE_INSTALL_SERVICE] = s;
  }

  const doc = {
    'x-moodle-lab': {
      note: `Exported by Moodle HA Lab (npm run lab -- export --format compose) from lab ${input.lab}, topology ${topology.preset}.`,
      moodle: `${MOODLEDATA} on the web nodes is the Gluster volume ${GLUSTER_VOLUME}`,
    },
    services,
    networks: { [COMPOSE_NETWORK]: {} },
    ...(Object.keys(volumes).length ? { volumes } : {}),
  };
  const escaped = escapeForCompose(doc);
  const yamlDoc = new Document(escaped, { aliasDuplicateObjects: false });
  // Multi-line strings (HAProxy's configuration, the install script) as block literals; YAML 1.1
  // booleans (docker-compose 1.29 reads YAML 1.1: `no` is false there) quoted.
  visit(yamlDoc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string') return;
      if (node.value.includes('\n')) node.type = 'BLOCK_LITERAL';
      else if (/^(y|yes|n|no|on|off|true|false)$/i.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  const header = '# Moodle HA Lab as a Compose file. Run: docker-compose -p <project> -f <this file> up -d\n';
  const yaml = header + yamlDoc.toString({ lineWidth: 0 });
  if (!input.secretsAsVariables) return { yaml };
  const envFile = (Object.keys(SECRET_VARS) as (keyof LabSecrets)[]).map((k) => `${SECRET_VARS[k]}=${input.secrets[k]}`).join('\n') + '\n';
  return { yaml, envFile };
}
