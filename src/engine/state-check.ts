/**
 * The shape check of a lab's state.json, by hand (no schema library): a file that is valid JSON
 * but of the wrong shape (edited by hand, written by another version, cut short) fails with one
 * sentence naming the file and the field, instead of a TypeError somewhere later.
 */
import * as os from 'node:os';
import { HAPROXY_PROFILES } from '../roles/haproxy';
import { identityOf } from '../docker/labels';
import { parseCidr } from '../roles/lab-network';
import type { LabState } from './state-types';
import { isPresetName, PRESET_NAMES, resolveDefinition } from './topology';
import { CACHE_MODES, ROLE_OPTIONS } from '../roles/definition';
import type { Role } from '../protocol/status';
import { FAULT_KINDS } from '../protocol/faults';

export class StateShapeError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    expected: string,
  ) {
    super(`${shortPath(file)}: "${field}" must be ${expected} (fix the file, or \`destroy\` the lab: destroy goes by Docker labels)`);
    this.name = 'StateShapeError';
  }
}

function shortPath(file: string): string {
  const home = os.homedir();
  return home && file.startsWith(home + '/') ? `~${file.slice(home.length)}` : file;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

const SECRET_NAMES = ['dbRootPassword', 'dbPassword', 'redisPassword', 'moodleAdminPassword', 'moodleUsersPassword'];

/** Checks `raw` (parsed JSON of `file`) against the lab state's shape; returns it typed. */
export function checkLabState(raw: unknown, file: string, lab: string): LabState {
  const fail = (field: string, expected: string): never => {
    throw new StateShapeError(file, field, expected);
  };
  const obj = (v: unknown, field: string): Obj => (isObj(v) ? v : fail(field, 'an object'));
  const str = (v: unknown, field: string) => {
    if (typeof v !== 'string' || v === '') fail(field, 'a non-empty string');
  };
  const optStr = (v: unknown, field: string) => {
    if (v !== undefined) str(v, field);
  };
  const optNum = (v: unknown, field: string) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v))) fail(field, 'a number');
  };
  const strList = (v: unknown, field: string, nonEmpty: boolean) => {
    if (!Array.isArray(v) || (nonEmpty && v.length === 0)) fail(field, nonEmpty ? 'a non-empty list of node names' : 'a list of node names');
    (v as unknown[]).forEach((x, i) => str(x, `${field}[${i}]`));
  };

  const s = obj(raw, 'the file');
  if (s.lab !== lab) fail('lab', `"${lab}" (the lab this folder belongs to)`);
  str(s.createdAt, 'createdAt');
  if (!(Number.isInteger(s.webCount) && (s.webCount as number) >= 1)) fail('webCount', 'a whole number of web nodes (1 or more)');
  if (s.definition === undefined) {
    // A state of the old shape (preset + webCount): its preset's definition, with its web count.
    if (!isPresetName(s.preset)) fail('preset', `one of ${PRESET_NAMES.join(', ')}`);
    s.definition = resolveDefinition(s.preset as never, s.webCount as number);
  } else {
    const d = obj(s.definition, 'definition');
    str(d.name, 'definition.name');
    if (typeof d.description !== 'string') fail('definition.description', 'a string');
    if (d.haproxy !== undefined && !(HAPROXY_PROFILES as readonly unknown[]).includes(d.haproxy))
      fail('definition.haproxy', `one of ${HAPROXY_PROFILES.join(', ')}`);
    const roles = obj(d.roles, 'definition.roles');
    for (const [role, raw] of Object.entries(roles)) {
      const at = `definition.roles.${role as Role}`;
      const o = obj(raw, at);
      if (!(Number.isInteger(o.count) && (o.count as number) >= 0)) fail(`${at}.count`, 'a whole number');
      for (const [k, v] of Object.entries(o)) {
        if (k === 'count') continue;
        const kind = ROLE_OPTIONS[k as keyof typeof ROLE_OPTIONS];
        if (kind === undefined) fail(`${at}.${k}`, 'absent (no such option)');
        else if (kind === 'boolean' ? typeof v !== 'boolean' : !(CACHE_MODES as readonly unknown[]).includes(v))
          fail(`${at}.${k}`, kind === 'boolean' ? 'true or false' : `one of ${kind.join(', ')}`);
      }
    }
    str(s.preset, 'preset');
  }
  str(s.baseImage, 'baseImage');
  const secrets = obj(s.secrets, 'secrets');
  // A state from an older version may lack newer secrets (withAllSecrets adds them).
  for (const name of SECRET_NAMES) optStr(secrets[name], `secrets.${name}`);
  const ports = obj(s.ports, 'ports');
  for (const [name, port] of Object.entries(ports)) {
    if (!(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) fail(`ports.${name}`, 'a port number');
  }

  if (s.extra === undefined) s.extra = {};
  const extra = obj(s.extra, 'extra');
  if (extra.haproxyProfile !== undefined && !(HAPROXY_PROFILES as readonly unknown[]).includes(extra.haproxyProfile))
    fail('extra.haproxyProfile', `one of ${HAPROXY_PROFILES.join(', ')}`);

  if (extra.identity !== undefined) {
    try {
      identityOf({ extra });
    } catch {
      fail('extra.identity', '{"id": "<hex>", "adopted"?: {"containers", "networks", "volumes": lists of names}}');
    }
  }

  const ip = (v: unknown, field: string) => {
    if (typeof v !== 'string' || !parseCidr(`${v}/32`)) fail(field, 'an IPv4 address');
  };
  if (extra.network !== undefined) {
    const n = obj(extra.network, 'extra.network');
    for (const k of ['subnet', 'ipRange']) if (typeof n[k] !== 'string' || !parseCidr(n[k] as string)) fail(`extra.network.${k}`, 'an IPv4 subnet (a.b.c.d/n)');
    ip(n.gateway, 'extra.network.gateway');
    for (const [k, v] of Object.entries(obj(n.addresses, 'extra.network.addresses'))) ip(v, `extra.network.addresses.${k}`);
  }

  if (extra.moodle !== undefined) {
    const m = obj(extra.moodle, 'extra.moodle');
    if (typeof m.installed !== 'boolean') fail('extra.moodle.installed', 'true or false');
    for (const k of ['image', 'release', 'origin', 'fingerprint']) str(m[k], `extra.moodle.${k}`);
    if (m.layout !== 'public' && m.layout !== 'legacy') fail('extra.moodle.layout', '"public" or "legacy"');
    optNum(m.installSeconds, 'extra.moodle.installSeconds');
    optNum(m.contentSeconds, 'extra.moodle.contentSeconds');
    optStr(m.course, 'extra.moodle.course');
    optStr(m.cache, 'extra.moodle.cache');
    if (m.installedFrom !== undefined && m.installedFrom !== 'installer' && m.installedFrom !== 'cache')
      fail('extra.moodle.installedFrom', '"installer" or "cache"');
    optNum(m.restoreSeconds, 'extra.moodle.restoreSeconds');
    if (m.restoreSteps !== undefined) {
      const r = obj(m.restoreSteps, 'extra.moodle.restoreSteps');
      for (const k of ['database', 'moodledata', 'caches', 'secrets']) {
        if (typeof r[k] !== 'number') fail(`extra.moodle.restoreSteps.${k}`, 'a number of seconds');
      }
    }
    optNum(m.snapshotSeconds, 'extra.moodle.snapshotSeconds');
    optStr(m.cacheEntry, 'extra.moodle.cacheEntry');
  }

  if (extra.stopping !== undefined) {
    const st = obj(extra.stopping, 'extra.stopping');
    if (st.by !== 'down' && st.by !== 'destroy') fail('extra.stopping.by', '"down" or "destroy"');
    if (!isDate(st.at)) fail('extra.stopping.at', 'an ISO date');
  }

  if (extra.faults !== undefined) {
    if (!Array.isArray(extra.faults)) fail('extra.faults', 'a list of faults');
    (extra.faults as unknown[]).forEach((raw, i) => {
      const at = `extra.faults[${i}]`;
      const f = obj(raw, at);
      str(f.id, `${at}.id`);
      if (!(FAULT_KINDS as readonly unknown[]).includes(f.kind)) fail(`${at}.kind`, `one of ${FAULT_KINDS.join(', ')}`);
      strList(f.nodes, `${at}.nodes`, true);
      if (f.from !== undefined) strList(f.from, `${at}.from`, false);
      if (f.to !== undefined) strList(f.to, `${at}.to`, false);
      optNum(f.everyMs, `${at}.everyMs`);
      optNum(f.forMs, `${at}.forMs`);
      optStr(f.cycleOf, `${at}.cycleOf`);
      optStr(f.method, `${at}.method`);
      if (f.methodAt !== undefined && !isDate(f.methodAt)) fail(`${at}.methodAt`, 'an ISO date');
      if (f.peerIps !== undefined) for (const [k, v] of Object.entries(obj(f.peerIps, `${at}.peerIps`))) ip(v, `${at}.peerIps.${k}`);
      if (typeof f.detail !== 'string') fail(`${at}.detail`, 'a string');
      if (!isDate(f.appliedAt)) fail(`${at}.appliedAt`, 'an ISO date');
      if (f.expiresAt !== undefined && !isDate(f.expiresAt)) fail(`${at}.expiresAt`, 'an ISO date');
      if (f.params !== undefined) {
        const p = obj(f.params, `${at}.params`);
        for (const k of ['delayMs', 'jitterMs', 'lossPct', 'rateKbit']) optNum(p[k], `${at}.params.${k}`);
      }
    });
  }
  return s as unknown as LabState;
}
