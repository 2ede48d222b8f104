/**
 * One request through a MoodleClient, turned into the generator's Outcome: the HTTP status,
 * who served it, and whether the answer is what a user expected (`check`).
 */
import { isLoggedIn, MoodleClient, MoodleResponse } from '../moodle/client';
import type { Outcome } from './generator';

export type Check = (res: MoodleResponse) => string | undefined;

/** 2xx and not Moodle's error page. */
export const okPage: Check = (res) => {
  if (res.status < 200 || res.status >= 300) return `HTTP ${res.status}`;
  const ct = String(res.headers['content-type'] ?? '');
  if (ct.includes('text/html')) {
    const t = res.text();
    if (/<div[^>]+class="[^"]*errorbox/.test(t) || (/id="page-login-index"/.test(t) && !res.url.includes('/login/')))
      return `Moodle error page or login page at ${res.url}`;
  }
  return undefined;
};

/** A page only a logged-in user sees: losing the session shows as a failure. */
export const loggedInPage: Check = (res) => {
  const bad = okPage(res);
  if (bad || isLoggedIn(res.text())) return bad;
  const title = /<title>([^<]{0,120})<\/title>/.exec(res.text())?.[1]?.trim();
  return `not logged in at ${res.url}${title ? ` (page "${title}")` : ''}`;
};

export const jsonOk: Check = (res) => {
  if (res.status !== 200) return `HTTP ${res.status}: ${res.text().slice(0, 160).trim()}`;
  try {
    const j = JSON.parse(res.text()) as { ok?: boolean; error?: string };
    return j.ok ? undefined : `not ok: ${j.error ?? '?'}`;
  } catch {
    return `not JSON: ${res.text().slice(0, 80)}`;
  }
};

export async function timedRequest(
  client: MoodleClient,
  method: 'GET' | 'POST',
  path: string,
  check: Check,
  form?: Record<string, string>,
): Promise<{ value: MoodleResponse; outcome: Outcome }> {
  const body = form ? Buffer.from(new URLSearchParams(form).toString()) : undefined;
  const res = method === 'POST' ? await client.fetch('POST', path, body) : await client.get(path);
  return {
    value: res,
    outcome: { status: res.status, failure: check(res), node: res.servedBy, bytes: res.body.length, sentBytes: body?.length ?? 0, url: res.url },
  };
}
