/**
 * Moodle's standard user journey (the one `maketestplan.php` writes for JMeter), plus what
 * current Moodle needs and the plan lacks: the login token is scraped from the login form, and a
 * file is downloaded. Ids and links are read off the pages as a browser would:
 * front → login page → POST login → front → course → page → course → forum → discussion →
 * reply form → POST reply → course → participants → download → logout.
 */
import { MoodleClient, scrapeLoginToken, scrapeSesskey } from '../moodle/client';
import { Journey, JourneyAborted, VirtualUser } from './generator';
import { loggedInPage, okPage, timedRequest } from './http';
import { courseId, linkIds, pluginfileLinks, scrapeForm } from './scrape';

export const MOODLE_LABELS = [
  'front',
  'login-page',
  'login',
  'course',
  'page',
  'forum',
  'discussion',
  'reply-form',
  'reply-post',
  'participants',
  'download',
  'logout',
] as const;

export interface MoodleJourneyOptions {
  /** The URL users type (Moodle's wwwroot). */
  wwwroot: string;
  course: string;
  users: { username: string; password: string }[];
  timeoutMs?: number;
  /** Extra headers on every request, read at each request (bench/page-breakdown.ts numbers its steps). */
  headers?: Record<string, string>;
}

export function moodleJourney(opts: MoodleJourneyOptions): Journey {
  if (!opts.users.length) throw new Error('the Moodle journey needs test users (status.moodle.users is empty)');
  return async (vu: VirtualUser) => {
    const user = opts.users[(vu.id - 1) % opts.users.length]!;
    const c = new MoodleClient({ wwwroot: opts.wwwroot, timeoutMs: opts.timeoutMs ?? 30_000, headers: opts.headers });
    const url = (p: string) => new URL(p, opts.wwwroot).toString();
    const get = (label: string, path: string, check = loggedInPage) => vu.request(label, url(path), () => timedRequest(c, 'GET', path, check));
    // A page without the link the journey needs is a failed step too (a zero-time failed sample
    // labelled as the step that could not be taken), then the user starts over.
    const scrapeFail = async (label: string, path: string, what: string): Promise<never> => {
      await vu.request(label, url(path), async () => ({ value: undefined, outcome: { status: 0, failure: `scrape: ${what}`, bytes: 0, url: url(path) } }));
      throw new JourneyAborted(what);
    };

    await get('front', '/', okPage);
    await vu.think();
    const loginPage = await get('login-page', '/login/index.php', okPage);
    const token = scrapeLoginToken(loginPage.text()) ?? (await scrapeFail('login', '/login/index.php', 'no logintoken on the login page'));
    await vu.think();
    const afterLogin = await vu.request('login', url('/login/index.php'), () =>
      timedRequest(c, 'POST', '/login/index.php', loggedInPage, { anchor: '', logintoken: token, username: user.username, password: user.password }),
    );
    const sesskey = scrapeSesskey(afterLogin.text()) ?? (await scrapeFail('front', '/', 'no sesskey after login'));
    await vu.think();
    await get('front', '/');
    await vu.think();
    const coursePath = `/course/view.php?name=${encodeURIComponent(opts.course)}`;
    const course = (await get('course', coursePath)).text();
    const cid = courseId(course);
    const pageId = linkIds(course, '/mod/page/view.php')[0];
    // The course's own forum comes after the Announcements forum of section 0.
    const forumId = linkIds(course, '/mod/forum/view.php').pop();
    const resourceId = linkIds(course, '/mod/resource/view.php')[0];
    const fileLink = pluginfileLinks(course).find((l) => !/\/(theme|core|user|course)\//.test(l));
    await vu.think();
    await get('page', `/mod/page/view.php?id=${pageId ?? (await scrapeFail('page', coursePath, 'no page activity on the course page'))}`);
    await vu.think();
    await get('course', coursePath);
    await vu.think();
    const forum = (await get('forum', `/mod/forum/view.php?id=${forumId ?? (await scrapeFail('forum', coursePath, 'no forum on the course page'))}`)).text();
    const discussionId =
      linkIds(forum, '/mod/forum/discuss.php', 'd')[0] ?? (await scrapeFail('discussion', '/mod/forum/view.php', 'no discussion in the forum'));
    await vu.think();
    const discussion = (await get('discussion', `/mod/forum/discuss.php?d=${discussionId}`)).text();
    const replyTo =
      linkIds(discussion, '/mod/forum/post.php', 'reply')[0] ?? (await scrapeFail('reply-form', '/mod/forum/discuss.php', 'no reply link in the discussion'));
    await vu.think();
    const formPage = (await get('reply-form', `/mod/forum/post.php?reply=${replyTo}`)).text();
    const form = scrapeForm(formPage, 'post.php') ?? (await scrapeFail('reply-post', '/mod/forum/post.php', 'no reply form'));
    await vu.think();
    const fields = {
      ...form.fields,
      subject: `Re: load ${user.username}`,
      'message[text]': `<p>Reply from ${user.username}, iteration ${vu.iteration}, at ${new Date().toISOString()}</p>`,
      submitbutton: 'Post to forum',
    };
    await vu.request('reply-post', url('/mod/forum/post.php'), () =>
      timedRequest(
        c,
        'POST',
        '/mod/forum/post.php',
        (res) => loggedInPage(res) ?? (/\/mod\/forum\/discuss\.php/.test(res.url) ? undefined : `reply not accepted (ended at ${res.url})`),
        fields,
      ),
    );
    await vu.think();
    await get('course', coursePath);
    await vu.think();
    await get('participants', `/user/index.php?id=${cid ?? (await scrapeFail('participants', coursePath, 'no course id on the course page'))}`);
    await vu.think();
    const download =
      fileLink ??
      (resourceId !== undefined
        ? `/mod/resource/view.php?id=${resourceId}&redirect=1`
        : await scrapeFail('download', coursePath, 'no file resource on the course page'));
    await vu.request('download', url(download), () =>
      timedRequest(c, 'GET', download, (res) =>
        res.status !== 200 ? `HTTP ${res.status}` : res.url.includes('/pluginfile.php') ? undefined : `not a file (ended at ${res.url})`,
      ),
    );
    await vu.think();
    await get(
      'logout',
      `/login/logout.php?sesskey=${sesskey}`,
      (res) => okPage(res) ?? (/login\/logout\.php\?sesskey=/.test(res.text()) ? 'still logged in after logout' : undefined),
    );
  };
}
