/**
 * What a browser would read off Moodle's pages to go on: links to activities, the course id,
 * the session key, a form's fields. Plain regular expressions over the HTML (Moodle's markup is
 * stable enough for this, and the journey fails loudly when it is not).
 */

export function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** Every distinct id of links to `path` (e.g. '/mod/page/view.php', param 'id'), in page order. */
export function linkIds(html: string, path: string, param = 'id'): number[] {
  const re = new RegExp(`${path.replaceAll('.', '\\.').replaceAll('/', '\\/')}\\?(?:[^"'\\s>]*?&(?:amp;)?)?${param}=(\\d+)`, 'g');
  return [...new Set([...html.matchAll(re)].map((m) => Number(m[1])))];
}

/** Links to Moodle's file server (pluginfile.php), decoded, in page order. */
export function pluginfileLinks(html: string): string[] {
  return [...new Set([...html.matchAll(/href="([^"]*\/pluginfile\.php\/[^"]+)"/g)].map((m) => decodeEntities(m[1]!)))];
}

/** The course id: the `course-N` body class, else the participants link. */
export function courseId(html: string): number | undefined {
  const m = /<body[^>]*class="[^"]*\bcourse-(\d+)\b/.exec(html) ?? /\/user\/index\.php\?id=(\d+)/.exec(html);
  return m ? Number(m[1]) : undefined;
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.[\]]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? '');
  return out;
}

export interface ScrapedForm {
  action: string;
  fields: Record<string, string>;
}

/** The first form whose action contains `actionPart`: its inputs (hidden, text, checked boxes) and textareas. */
export function scrapeForm(html: string, actionPart: string): ScrapedForm | undefined {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const a = attrs(m[1]!);
    if (!(a.action ?? '').includes(actionPart)) continue;
    const fields: Record<string, string> = {};
    for (const im of m[2]!.matchAll(/<input\b[^>]*>/g)) {
      const ia = attrs(im[0]);
      if (!ia.name) continue;
      const type = (ia.type ?? 'text').toLowerCase();
      if (type === 'submit' || type === 'button' || type === 'file' || type === 'image') continue;
      if ((type === 'checkbox' || type === 'radio') && !/\bchecked\b/.test(im[0])) continue;
      fields[ia.name] = ia.value ?? '';
    }
    for (const tm of m[2]!.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) {
      const ta = attrs(tm[1]!);
      if (ta.name) fields[ta.name] = decodeEntities(tm[2]!);
    }
    return { action: a.action!, fields };
  }
  return undefined;
}
