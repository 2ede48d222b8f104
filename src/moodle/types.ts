/** What the rest of the lab knows about a Moodle source, and the one error this folder throws. */

export interface MoodleSource {
  /** Absolute folder holding config-dist.php and admin/cli: where the lab's config.php goes. */
  root: string;
  /** 'public': Moodle 5.1+ with its web root in public/; 'legacy': 4.x and older, all at the root. */
  layout: 'public' | 'legacy';
  /** Absolute web root: root/public or root. */
  docroot: string;
  release: string;
  version: number;
  branch: string;
  /** 16 hex chars of a content hash over every file of the tree (see fingerprint.ts). */
  fingerprint: string;
  /** What the user gave: a folder, an archive, a URL, or 'default <version>'. */
  origin: string;
}

/** A source the lab cannot use; the message is one sentence a user can act on. */
export class MoodleSourceError extends Error {
  override name = 'MoodleSourceError';
}
