/**
 * Reading a scenario file: refused by its size before it is read, strictly UTF-8, a regular file.
 * (Parsing the text is ./parse.ts.)
 */
import * as fs from 'node:fs';

/** Scenario files larger than this are refused by their size, before they are read. */
export const MAX_SCENARIO_BYTES = 1024 * 1024;

/** A scenario file that cannot be used as a scenario at all: missing, too big, not UTF-8, not a file. */
export class ScenarioFileError extends Error {}

/**
 * The text of a scenario file: refused by its size before it is read (at most
 * MAX_SCENARIO_BYTES), and strictly UTF-8 (a stray Latin-1 byte is an error, not a silent U+FFFD).
 */
export function readScenarioFile(file: string, what: 'scenario' | 'lab file' = 'scenario'): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScenarioFileError(
      code === 'ENOENT'
        ? `${what === 'scenario' ? 'scenario file' : what} "${file}" not found`
        : `cannot read ${what === 'scenario' ? 'scenario file' : what} "${file}": ${(e as Error).message}`,
    );
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ScenarioFileError(`${file}: not a regular file`);
    if (st.size > MAX_SCENARIO_BYTES)
      throw new ScenarioFileError(`${file}: the file is ${formatBytes(st.size)}; a ${what} may be at most ${formatBytes(MAX_SCENARIO_BYTES)}`);
    // Read at most one byte more than allowed: a file that grew since fstat is refused too.
    const buf = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = fs.readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_SCENARIO_BYTES) throw new ScenarioFileError(`${file}: the file is larger than ${formatBytes(MAX_SCENARIO_BYTES)}, the most a ${what} may be`);
    return decodeUtf8(buf.subarray(0, n), file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Strict UTF-8 → text (a leading BOM is dropped). Throws `file: not valid UTF-8 at byte N` (N from 0). */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ScenarioFileError(`${file}: not valid UTF-8 at byte ${invalidUtf8At(bytes)}`);
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (-1: none). */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // The sequence length and the allowed range of its second byte (no overlongs, no surrogates, ≤ U+10FFFF).
    const [len, lo, hi] =
      c >= 0xc2 && c <= 0xdf
        ? [2, 0x80, 0xbf]
        : c === 0xe0
          ? [3, 0xa0, 0xbf]
          : c === 0xed
            ? [3, 0x80, 0x9f]
            : c >= 0xe1 && c <= 0xef
              ? [3, 0x80, 0xbf]
              : c === 0xf0
                ? [4, 0x90, 0xbf]
                : c === 0xf4
                  ? [4, 0x80, 0x8f]
                  : c >= 0xf1 && c <= 0xf3
                    ? [4, 0x80, 0xbf]
                    : [0, 0, 0];
    if (len === 0) return i;
    for (let k = 1; k < len; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += len;
  }
  return -1;
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) ? 1 : 0)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`;
}
