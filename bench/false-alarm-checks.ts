/**
 * The false-alarm check's counting, pure: HAProxy's own DOWN count per server (`chkdown` of
 * `show stat`, every listener) and the DOWN transitions seen between polls, Galera's view
 * number (`wsrep_cluster_conf_id`) per node, and the Gluster client's disconnect lines.
 */

/** `show stat` → server ("listener/server") → its chkdown (UP→DOWN transitions since HAProxy started) and status. */
export function serverStats(csv: string): Map<string, { chkdown: number; status: string }> {
  const lines = csv.split('\n').filter((l) => l.trim());
  const header = lines.shift()?.replace(/^# /, '').split(',') ?? [];
  const at = (f: string[], name: string) => f[header.indexOf(name)] ?? '';
  const out = new Map<string, { chkdown: number; status: string }>();
  for (const line of lines) {
    const f = line.split(',');
    const sv = at(f, 'svname');
    if (!sv || sv === 'FRONTEND' || sv === 'BACKEND') continue;
    out.set(`${at(f, 'pxname')}/${sv}`, { chkdown: Number(at(f, 'chkdown')) || 0, status: at(f, 'status') });
  }
  return out;
}

const isUp = (status: string) => /^UP/.test(status);

/** Servers that went from UP to anything else between two polls. */
export function wentDown(before: Map<string, { status: string }>, after: Map<string, { status: string }>): string[] {
  return [...after].filter(([k, v]) => before.has(k) && isUp(before.get(k)!.status) && !isUp(v.status)).map(([k]) => k);
}

/** DOWN events per server over the run: HAProxy's own count (chkdown) or the transitions seen, whichever is more. */
export function downEvents(start: Map<string, { chkdown: number }>, end: Map<string, { chkdown: number }>, seen: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of end) {
    const chk = v.chkdown - (start.get(k)?.chkdown ?? v.chkdown);
    const polled = seen.filter((s) => s === k).length;
    out.set(k, Math.max(chk, polled));
  }
  return out;
}

/** `wsrep_cluster_conf_id` from `SHOW GLOBAL STATUS LIKE 'wsrep_cluster_conf_id'` (-N -B: name TAB value). */
export function confId(text: string): number | undefined {
  const m = /wsrep_cluster_conf_id\s+(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * A Gluster client losing a brick: the FUSE client's (and the self-heal daemon's) log line when
 * its connection to a brick ends ("disconnected from moodledata-client-0") or when the brick
 * missed network.ping-timeout ("has not responded in the last 5 seconds, disconnecting").
 */
export const GLUSTER_DISCONNECT = /disconnected from|has not responded in the last/;

export function disconnectLines(log: string): string[] {
  return log.split('\n').filter((l) => GLUSTER_DISCONNECT.test(l));
}

/** Client logs among /var/log/glusterfs/*.log: a mount's log or the self-heal daemon's (not the CLI's, nor heal info's short-lived clients). */
export function isClientLog(file: string): boolean {
  const base = file.split('/').pop() ?? '';
  return /\.log$/.test(base) && !/^(cli|cmd_history|glfsheal-.*)\.log$/.test(base);
}
