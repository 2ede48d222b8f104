/**
 * Galera facts the engine needs: reading grastate.dat, choosing the node that may bootstrap,
 * and reading a node's wsrep status. The bootstrap flag is one-shot (a file the entrypoint
 * deletes), so a restart never forms a second cluster by itself.
 */
import type { ContainerClient } from '../docker/types';

export const GRASTATE_PATH = '/var/lib/mysql/grastate.dat';
export const BOOTSTRAP_REQUEST_PATH = '/var/lib/mysql/lab-bootstrap';

export interface GraState {
  uuid?: string;
  seqno: number;
  safeToBootstrap: boolean;
}

export function parseGrastate(text: string): GraState {
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1];
  const seqno = Number(field('seqno') ?? '-1');
  return { uuid: field('uuid'), seqno: Number.isFinite(seqno) ? seqno : -1, safeToBootstrap: field('safe_to_bootstrap') === '1' };
}

export interface BootstrapCandidate {
  node: string;
  /** undefined: the node has never run (no grastate.dat yet). */
  grastate?: GraState;
}

export interface BootstrapChoice {
  node: string;
  reason: string;
}

/**
 * Which node starts a new Primary component:
 * 1. the node grastate.dat marks safe_to_bootstrap (the last one to leave a clean shutdown);
 * 2. else the highest known seqno;
 * 3. else, when no node has ever run, the first node (a brand-new cluster).
 * With every seqno unknown (-1, after crashes) the seqnos must first be recovered
 * (`mariadbd --wsrep-recover`): we refuse rather than guess and risk losing commits.
 */
export function chooseBootstrapNode(candidates: BootstrapCandidate[]): BootstrapChoice {
  if (candidates.length === 0) throw new Error('no Galera nodes');
  const safe = candidates.find((c) => c.grastate?.safeToBootstrap);
  if (safe) return { node: safe.node, reason: 'safe_to_bootstrap: 1 in grastate.dat' };
  const known = candidates.filter((c) => c.grastate && c.grastate.seqno >= 0);
  if (known.length > 0) {
    const best = known.reduce((a, b) => ((b.grastate?.seqno ?? -1) > (a.grastate?.seqno ?? -1) ? b : a));
    return { node: best.node, reason: `highest seqno (${best.grastate?.seqno})` };
  }
  if (candidates.every((c) => !c.grastate)) return { node: candidates[0]!.node, reason: 'new cluster' };
  throw new Error(
    'no Galera node is known to be safe to bootstrap (every seqno is -1: the nodes crashed). ' +
      'Recover the seqnos first (`fault`-aware recovery: `npm run lab -- heal`).',
  );
}

export const WSREP_VARIABLES = [
  'wsrep_cluster_size',
  'wsrep_cluster_status',
  'wsrep_local_state',
  'wsrep_local_state_comment',
  'wsrep_ready',
  'wsrep_connected',
  'wsrep_flow_control_paused',
  'wsrep_local_recv_queue_avg',
  'wsrep_last_committed',
] as const;

/** Parses `mariadb -N -B` output of `SHOW GLOBAL STATUS` (name<TAB>value per line). */
export function parseStatusRows(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.split('\t');
    if (k && v !== undefined) out[k.toLowerCase()] = v.trim();
  }
  return out;
}

/** Runs SQL as root through the node's local socket; rejects with MariaDB's own message. */
export async function sql(containers: ContainerClient, containerId: string, rootPassword: string, query: string, timeoutMs = 5000): Promise<string> {
  const r = await containers.exec(containerId, ['mariadb', '-uroot', '-N', '-B', '-e', query], { env: [`MYSQL_PWD=${rootPassword}`], timeoutMs });
  if (r.exitCode !== 0) throw new Error((r.stderr || r.stdout).trim() || `mariadb exited ${r.exitCode}`);
  return r.stdout;
}

export async function wsrepStatus(containers: ContainerClient, containerId: string, rootPassword: string): Promise<Record<string, string>> {
  const list = WSREP_VARIABLES.map((v) => `'${v}'`).join(',');
  // wsrep_sync_wait=0: a status read must not wait for (or fail on) cluster synchronisation.
  return parseStatusRows(
    await sql(containers, containerId, rootPassword, `SET SESSION wsrep_sync_wait=0; SHOW GLOBAL STATUS WHERE Variable_name IN (${list})`),
  );
}

/** A running Galera node's view, read from the node itself (SHOW STATUS). */
export interface SurvivorView {
  node: string;
  primary: boolean;
  lastCommitted: number;
}

export type SurvivorVerdict =
  /** A running node is in a Primary component: the others simply join it. */
  | { kind: 'primary' }
  /** No Primary component, and no stopped node holds later commits: this survivor bootstraps. */
  | { kind: 'survivor'; node: string; lastCommitted: number }
  /**
   * No Primary component, and a stopped node holds commits the survivors lack (they were cut off,
   * then the others crashed): bootstrapping a survivor would lose them, and the node holding them
   * could never rejoin. The survivors stop cleanly and the cluster starts from that node.
   */
  | { kind: 'restart'; ahead: BootstrapCandidate; survivors: SurvivorView[] };

/**
 * Who may restore a Primary component when some Galera nodes still run: `stopped` are the other
 * nodes' positions (grastate.dat, or recovered from InnoDB where it has none).
 */
export function survivorVerdict(running: SurvivorView[], stopped: BootstrapCandidate[]): SurvivorVerdict {
  if (running.some((r) => r.primary)) return { kind: 'primary' };
  if (running.length === 0) throw new Error('no running Galera node answers: cannot recover the cluster');
  const best = running.reduce((a, b) => (b.lastCommitted > a.lastCommitted ? b : a));
  const ahead = stopped
    .filter((c) => (c.grastate?.seqno ?? -1) > best.lastCommitted)
    .reduce<BootstrapCandidate | undefined>((a, b) => (!a || (b.grastate?.seqno ?? -1) > (a.grastate?.seqno ?? -1) ? b : a), undefined);
  if (ahead) return { kind: 'restart', ahead, survivors: running };
  return { kind: 'survivor', node: best.node, lastCommitted: best.lastCommitted };
}
