/**
 * Which PHP versions each Moodle branch supports.
 *
 * Sources: the minimum is the `<PHP version=… level="required">` of the branch's own block in
 * admin/environment.xml (public/admin/environment.xml from 5.1; checked in the 5.1 tree for
 * 3.9–5.1). The maximum is not in environment.xml: it is the "highest PHP supported" job of core's
 * .github/workflows/push.yml on that branch, as listed in the release notes and on moodledev.io
 * (general/development/policies/php). 5.2 (8.3 minimum, 8.4 maximum) is taken from its release
 * notes and environment.xml as quoted in public write-ups of 5.2.0; recheck when a branch is added.
 * Branches not in the table (newer than this file) are accepted.
 */
const PHP_SUPPORT: Record<string, { min: string; max: string }> = {
  '39': { min: '7.2', max: '7.4' },
  '310': { min: '7.2', max: '7.4' },
  '311': { min: '7.3', max: '8.0' },
  '400': { min: '7.3', max: '8.0' },
  '401': { min: '7.4', max: '8.1' },
  '402': { min: '8.0', max: '8.2' },
  '403': { min: '8.0', max: '8.2' },
  '404': { min: '8.1', max: '8.3' },
  '405': { min: '8.1', max: '8.3' },
  '500': { min: '8.2', max: '8.4' },
  '501': { min: '8.2', max: '8.4' },
  '502': { min: '8.3', max: '8.4' },
};

export function phpSupport(branch: string): { min: string; max: string } | undefined {
  return PHP_SUPPORT[branch];
}

/** major*100+minor of '8.4', '8.4.12' or '8.4-apache'; NaN when it is not a version. */
function minorOf(version: string): number {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) * 100 + Number(m[2]) : NaN;
}

/** Whether PHP `phpVersion` (only major.minor counts) is inside the branch's range; true for an unknown branch. */
export function phpSupported(branch: string, phpVersion: string): boolean {
  const range = phpSupport(branch);
  if (!range) return true;
  const v = minorOf(phpVersion);
  return v >= minorOf(range.min) && v <= minorOf(range.max);
}
