/** The replicated Gluster volume: created idempotently by the image's helper, read back as JSON. */
import type { ContainerClient } from '../docker/types';

export interface VolumeStatus {
  volume: string;
  exists: boolean;
  started: boolean;
  bricks: { host: string; online: boolean }[];
  healPending: number;
}

export function parseVolumeStatus(text: string): VolumeStatus {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`lab-volume-status printed no JSON: ${text.trim().slice(0, 200)}`);
  const v = JSON.parse(line) as Partial<VolumeStatus>;
  return {
    volume: String(v.volume ?? ''),
    exists: Boolean(v.exists),
    started: Boolean(v.started),
    bricks: Array.isArray(v.bricks) ? v.bricks.map((b) => ({ host: String(b.host), online: Boolean(b.online) })) : [],
    healPending: Number(v.healPending ?? 0),
  };
}

export async function setupVolume(containers: ContainerClient, onNode: string, volume: string, hosts: string[]): Promise<void> {
  const r = await containers.exec(onNode, ['lab-volume-setup', volume, ...hosts], { timeoutMs: 180_000 });
  if (r.exitCode !== 0) throw new Error(`gluster volume setup failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
}

export async function volumeStatus(containers: ContainerClient, onNode: string, volume: string): Promise<VolumeStatus> {
  const r = await containers.exec(onNode, ['lab-volume-status', volume], { timeoutMs: 15_000 });
  if (r.exitCode !== 0 && !r.stdout.includes('{')) throw new Error((r.stderr || r.stdout).trim() || `lab-volume-status exited ${r.exitCode}`);
  return parseVolumeStatus(r.stdout);
}

/** Asks the self-heal daemon to heal now (it otherwise waits up to 600 s). */
export async function triggerHeal(containers: ContainerClient, onNode: string, volume: string): Promise<void> {
  const r = await containers.exec(onNode, ['gluster', '--mode=script', 'volume', 'heal', volume], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`gluster volume heal ${volume} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** What the web image's `lab-storage-probe` saw: create + fsync + remove of a small file on moodledata. */
export interface WriteProbe {
  writable: boolean;
  ms?: number;
  error?: string;
}

export const STORAGE_PROBE = 'lab-storage-probe';

export function parseStorageProbe(text: string): WriteProbe {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${STORAGE_PROBE} printed no JSON: ${text.trim().slice(0, 200) || '(nothing)'}`);
  const v = JSON.parse(line) as { ok?: unknown; ms?: unknown; error?: unknown };
  const out: WriteProbe = { writable: v.ok === true };
  if (typeof v.ms === 'number' && Number.isFinite(v.ms)) out.ms = v.ms;
  if (!out.writable) out.error = typeof v.error === 'string' && v.error ? v.error : 'write failed';
  return out;
}

/**
 * Writes through the Gluster mount of one web node (the probe bounds itself to 3 s; the exec gets
 * a little more). The answer is what the FUSE client really did: read-only without client quorum.
 */
export async function storageWriteProbe(containers: ContainerClient, webNode: string): Promise<WriteProbe> {
  const r = await containers.exec(webNode, [STORAGE_PROBE], { timeoutMs: 5000 });
  if (r.exitCode !== 0 && !r.stdout.includes('{')) throw new Error((r.stderr || r.stdout).trim() || `${STORAGE_PROBE} exited ${r.exitCode}`);
  return parseStorageProbe(r.stdout);
}
