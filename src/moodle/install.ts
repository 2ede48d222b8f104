/**
 * Moodle on the cluster: one install (the engine is the designated installer, on the first web
 * node, guarded by the lab state and an empty-database check), the test content the load
 * journeys use (Moodle's own tool_generator), and CLI maintenance mode.
 */
import type { ContainerClient, ExecResult } from '../docker/types';

export const MOODLE_ROOT = '/var/www/moodle';
export const ADMIN_USER = 'admin';
export const TEST_COURSE = 'halab';
/** tool_generator's size S: 100 users enrolled, 50 pages, 10 forum discussions, files. */
export const TEST_COURSE_SIZE = 'S';
export const TEST_USERS = 100;
/** Keeps the generated "big" files at 1 MiB: a download in a journey, not a bandwidth test. */
export const TEST_FILE_SIZE_LIMIT = 1_048_576;

export interface MoodleLabState {
  installed: boolean;
  image: string;
  release: string;
  origin: string;
  fingerprint: string;
  layout: 'public' | 'legacy';
  installSeconds?: number;
  contentSeconds?: number;
  course?: string;
  /** Set once the application cache went to Redis (muc-redis.php). */
  cache?: string;
  /** How the site came to be: Moodle's installer, or a restore from the site cache (src/moodle/site-cache.ts). */
  installedFrom?: 'installer' | 'cache';
  /** Seconds the restore from the site cache took (DB import, moodledata, secrets, caches). */
  restoreSeconds?: number;
  /** Seconds per restore step: database, moodledata (the two at once), caches, secrets. */
  restoreSteps?: { database: number; moodledata: number; caches: number; secrets: number };
  /** Seconds taken to save the freshly installed site into the site cache. */
  snapshotSeconds?: number;
  /** The site cache entry the site came from, or the one it was saved as. */
  cacheEntry?: string;
}

export function testUsernames(count = TEST_USERS): string[] {
  return Array.from({ length: count }, (_, i) => `tool_generator_${String(i + 1).padStart(6, '0')}`);
}

function tail(r: ExecResult, lines = 12): string {
  return `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

/** Moodle's CLI as the web server's user (files it writes on moodledata must be www-data's). */
export async function moodleCli(containers: ContainerClient, webId: string, script: string, args: string[], timeoutMs: number): Promise<ExecResult> {
  return containers.exec(webId, ['php', `${MOODLE_ROOT}/${script}`, ...args], { user: 'www-data', timeoutMs });
}

export interface InstallParams {
  adminPassword: string;
  siteName: string;
}

/** The lab's PHP scripts in the Moodle image (lab/moodle/Dockerfile copies them there). */
export const LAB_SCRIPTS = '/usr/local/share/moodle-lab';
/** The exec environment variable that carries the admin password (never argv: `ps` shows argv to every user). */
export const ADMIN_PASSWORD_ENV = 'MOODLE_LAB_ADMIN_PASSWORD';

/**
 * Moodle's install_database.php through lab/moodle/install-database.php, which takes the admin
 * password from the exec's environment and hands it to Moodle in memory: it is never on a
 * command line.
 */
export async function installMoodle(containers: ContainerClient, webId: string, p: InstallParams): Promise<void> {
  const r = await containers.exec(
    webId,
    [
      'php',
      `${LAB_SCRIPTS}/install-database.php`,
      '--agree-license',
      '--lang=en',
      `--adminuser=${ADMIN_USER}`,
      '--adminemail=admin@moodle-lab.invalid',
      `--fullname=${p.siteName}`,
      '--shortname=moodlelab',
      '--summary=A Moodle HA Lab cluster',
    ],
    { user: 'www-data', env: [`${ADMIN_PASSWORD_ENV}=${p.adminPassword}`], timeoutMs: 1_800_000 },
  );
  if (r.exitCode !== 0) {
    const out = tail(r);
    const plugins = /Plugin dependencies check failed[^\n]*|pluginscheckfailed[^\n]*/i.exec(out)?.[0];
    throw new Error(`Moodle install failed${plugins ? ` (${plugins.trim()})` : ''}:\n${out}`);
  }
}

/**
 * A site restored from the site cache takes this lab's secrets (lab/moodle/site-secrets.php):
 * the admin password (exec environment), the generated users' password (the node's env.php),
 * the site name; old sessions go and every cache is purged.
 */
export async function applySiteSecrets(containers: ContainerClient, webId: string, p: InstallParams): Promise<string> {
  const r = await containers.exec(webId, ['php', `${LAB_SCRIPTS}/site-secrets.php`], {
    user: 'www-data',
    env: [`${ADMIN_PASSWORD_ENV}=${p.adminPassword}`, `MOODLE_LAB_SITE_NAME=${p.siteName}`],
    timeoutMs: 300_000,
  });
  if (r.exitCode !== 0) throw new Error(`applying the lab's secrets to the restored site failed:\n${tail(r)}`);
  return r.stdout.trim();
}

export async function makeTestContent(containers: ContainerClient, webId: string, layoutPublic: boolean): Promise<void> {
  const script = `${layoutPublic ? 'public/' : ''}admin/tool/generator/cli/maketestcourse.php`;
  const r = await moodleCli(
    containers,
    webId,
    script,
    [
      `--shortname=${TEST_COURSE}`,
      '--fullname=Moodle HA Lab course',
      `--size=${TEST_COURSE_SIZE}`,
      '--fixeddataset',
      `--filesizelimit=${TEST_FILE_SIZE_LIMIT}`,
      '--bypasscheck',
      '--quiet',
    ],
    1_800_000,
  );
  if (r.exitCode !== 0) throw new Error(`creating the test course failed:\n${tail(r)}`);
}

/** Moodle's application cache in the lab's Redis (lab/moodle/muc-redis.php says why). */
export async function cachesInRedis(containers: ContainerClient, webId: string): Promise<string> {
  const r = await containers.exec(webId, ['php', `${LAB_SCRIPTS}/muc-redis.php`], { user: 'www-data', timeoutMs: 120_000 });
  if (r.exitCode !== 0)
    throw new Error(`moodle: configuring the application cache in Redis failed: ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout.trim();
}

export async function setMaintenance(containers: ContainerClient, webId: string, on: boolean): Promise<void> {
  const r = await moodleCli(containers, webId, 'admin/cli/maintenance.php', [on ? '--enable' : '--disable'], 120_000);
  if (r.exitCode !== 0) throw new Error(`maintenance ${on ? 'on' : 'off'} failed:\n${tail(r)}`);
}

/** CLI maintenance writes dataroot/climaintenance.html, shared by every node through Gluster. */
export async function maintenanceOn(containers: ContainerClient, webId: string, dataroot: string): Promise<boolean> {
  const r = await containers.exec(webId, ['test', '-f', `${dataroot}/climaintenance.html`], { timeoutMs: 5000 });
  return r.exitCode === 0;
}

/** PHP of the web image (lab/web/Dockerfile installs php8.4 from Debian trixie). */
export const WEB_PHP_VERSION = '8.4';
