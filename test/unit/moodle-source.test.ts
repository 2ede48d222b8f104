import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import * as yazl from 'yazl';
import * as zlib from 'node:zlib';
import { tarOneFile } from '../../src/docker/tar';
import { stripPhpComments } from '../../src/moodle/php-source';
import { parsePluginVersion } from '../../src/moodle/plugins';
import { safeEntryName } from '../../src/moodle/untar';
import { checkPluginDependencies, DEFAULT_MOODLE, MoodleSourceError, phpSupport, resolveMoodleSource, type ResolveOptions } from '../../src/moodle/source';

// ---- synthetic Moodle trees: a fake version.php, components.json and a few plugins ----

const CORE = { version: 2025100600.02, release: '5.1+ (Build: 20251017)', branch: '501' };
const LEGACY = { version: 2022112802.0, release: '4.1.2 (Build: 20230313)', branch: '401' };

function plugin(component: string, extra = ''): string {
  return `<?php\ndefined('MOODLE_INTERNAL') || die();\n$plugin->component = '${component}'; // See https://moodle.org/plugins\n$plugin->version   = 2025100600;\n$plugin->requires  = 2025092600;\n${extra}\n`;
}

interface TreeOptions {
  layout?: 'public' | 'legacy';
  core?: { version: number; release: string; branch: string };
  /** Folder relative to the web root → version.php text; replaces the default plugins. */
  plugins?: Record<string, string>;
}

const DEFAULT_PLUGINS: Record<string, string> = {
  'mod/assign': plugin('mod_assign'),
  'mod/assign/submission/file': plugin('assignsubmission_file', "$plugin->dependencies = ['mod_assign' => 2025100600];"),
  'admin/tool/lp': plugin('tool_lp'),
  'admin/tool/lpimportcsv': plugin('tool_lpimportcsv', "$plugin->dependencies = array(\n    'tool_lp' => ANY_VERSION, // Any.\n);"),
  'enrol/manual': plugin('enrol_manual'),
};

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

function makeMoodle(dir: string, o: TreeOptions = {}): string {
  const layout = o.layout ?? 'public';
  const core = o.core ?? (layout === 'public' ? CORE : LEGACY);
  const web = layout === 'public' ? path.join(dir, 'public') : dir;
  const pre = layout === 'public' ? 'public/' : '';
  write(
    path.join(web, 'version.php'),
    `<?php\ndefined('MOODLE_INTERNAL') || die();\n$version  = ${core.version};  // YYYYMMDDRR.XX\n$release  = '${core.release}';  // Human-friendly\n$branch   = '${core.branch}';\n$maturity = MATURITY_STABLE;\n`,
  );
  write(path.join(dir, 'config-dist.php'), '<?php // sample\n');
  write(path.join(dir, 'admin', 'cli', 'install_database.php'), '<?php // installer\n');
  if (layout === 'public') write(path.join(web, 'config.php'), "<?php require(__DIR__ . '/../config.php');\n"); // Moodle 5.1 ships this loader.
  write(
    path.join(dir, 'lib', 'components.json'),
    JSON.stringify({
      plugintypes: { mod: `${pre}mod`, enrol: `${pre}enrol`, tool: `${pre}admin/tool`, local: `${pre}local` },
      subsystems: { admin: `${pre}admin` },
    }),
  );
  // 4.5+ declare subplugin folders relative to the plugin; older releases only relative to the web root.
  const subplugins = { plugintypes: { assignsubmission: 'mod/assign/submission' } };
  write(
    path.join(web, 'mod', 'assign', 'db', 'subplugins.json'),
    JSON.stringify(layout === 'public' ? { subplugintypes: { assignsubmission: 'submission' }, ...subplugins } : subplugins),
  );
  for (const [folder, text] of Object.entries(o.plugins ?? DEFAULT_PLUGINS)) write(path.join(web, folder, 'version.php'), text);
  write(path.join(web, 'lib', 'moodlelib.php'), '<?php function get_string() {}\n');
  // Names past tar's 100 characters: one split into the ustar prefix, one that needs a pax header.
  write(path.join(web, 'lib', 'amd', 'build', 'a'.repeat(60), 'b'.repeat(60), 'module.min.js'), 'define([], () => 1);\n');
  write(path.join(web, 'lib', 'amd', 'build', `${'c'.repeat(120)}.min.js`), 'define([], () => 2);\n');
  return dir;
}

const made: string[] = [];
const tmp = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `msrc-${prefix}-`));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<ResolveOptions> = {}): ResolveOptions & { lines: string[] } {
  const lines: string[] = [];
  return { cacheDir: tmp('cache'), phpVersion: '8.4', progress: (m) => lines.push(m), lines, ...extra };
}

async function makeTgz(parent: string, out: string): Promise<string> {
  await tar.c({ gzip: true, file: out, cwd: parent, portable: true }, ['moodle']);
  return out;
}

async function makeZip(parent: string, out: string, zip64 = false): Promise<string> {
  const zip = new yazl.ZipFile();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(parent, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else zip.addFile(path.join(parent, r), r, { forceZip64Format: zip64 });
    }
  };
  walk('moodle');
  zip.end({ forceZip64Format: zip64, comment: '' });
  await pipeline(zip.outputStream, fs.createWriteStream(out));
  return out;
}

/** A release-style archive: one top-level moodle/ folder. */
async function releaseArchive(kind: 'tgz' | 'zip' | 'zip64'): Promise<{ file: string; tree: string }> {
  const parent = tmp('release');
  const tree = makeMoodle(path.join(parent, 'moodle'));
  const out = path.join(tmp('archive'), `moodle-5.1.${kind === 'tgz' ? 'tgz' : 'zip'}`);
  return { file: kind === 'tgz' ? await makeTgz(parent, out) : await makeZip(parent, out, kind === 'zip64'), tree };
}

const isSourceError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof MoodleSourceError, `expected MoodleSourceError, got ${String(e)}`);
  assert.match(e.message, re);
  return true;
};

// ---- a local HTTP server on 127.0.0.1 ----

interface Served {
  base: string;
  hits: string[];
  close: () => Promise<void>;
}

async function serve(routes: Record<string, Buffer | string>): Promise<Served> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const body = routes[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html>not found</html>');
      return;
    }
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Moodle source: folders', () => {
  it('a 5.1 folder: public/ layout, version, branch, release, and the shipped public/config.php loader is fine', async () => {
    const dir = makeMoodle(tmp('tree'));
    const s = await resolveMoodleSource(dir, options());
    assert.deepEqual(
      { root: s.root, layout: s.layout, docroot: s.docroot, version: s.version, release: s.release, branch: s.branch, origin: s.origin },
      { root: dir, layout: 'public', docroot: path.join(dir, 'public'), version: 2025100600.02, release: '5.1+ (Build: 20251017)', branch: '501', origin: dir },
    );
    assert.match(s.fingerprint, /^[0-9a-f]{16}$/);
  });

  it('a 4.x folder: legacy layout, docroot is the root', async () => {
    const dir = makeMoodle(tmp('legacy'), { layout: 'legacy' });
    const s = await resolveMoodleSource(dir, options({ phpVersion: '8.1' }));
    assert.equal(s.layout, 'legacy');
    assert.equal(s.docroot, dir);
    assert.equal(s.branch, '401');
  });

  it('a folder holding a single moodle/ subfolder is descended into', async () => {
    const parent = tmp('parent');
    makeMoodle(path.join(parent, 'moodle'));
    const s = await resolveMoodleSource(parent, options());
    assert.equal(s.root, path.join(parent, 'moodle'));
    assert.equal(s.origin, parent);
  });

  it('not Moodle: one sentence saying which version.php was expected', async () => {
    const dir = tmp('notmoodle');
    write(path.join(dir, 'version.php'), '<?php $x = 1;\n');
    write(path.join(dir, 'README.md'), 'hello');
    await assert.rejects(
      resolveMoodleSource(dir, options()),
      isSourceError(
        /is not a Moodle source tree: no version\.php with \$release \(expected public\/version\.php for Moodle 5\.1\+ or version\.php for 4\.x\)$/,
      ),
    );
    await assert.rejects(resolveMoodleSource(path.join(dir, 'nope'), options()), isSourceError(/does not exist/));
  });

  it('a config.php at the root is refused: the lab writes its own', async () => {
    const dir = makeMoodle(tmp('configured'));
    write(path.join(dir, 'config.php'), '<?php $CFG = new stdClass();\n');
    await assert.rejects(resolveMoodleSource(dir, options()), isSourceError(/config\.php exists: remove it .*the lab writes its own config\.php/));
  });

  it('the public/ folder itself is refused with a pointer to its parent', async () => {
    const dir = makeMoodle(tmp('pub'));
    await assert.rejects(
      resolveMoodleSource(path.join(dir, 'public'), options()),
      isSourceError(/is the public\/ web root of Moodle 5\.1\+ .*give the folder above it/),
    );
  });
});

describe('Moodle source: PHP support', () => {
  it('the table covers 4.1 to 5.2', () => {
    assert.deepEqual(phpSupport('401'), { min: '7.4', max: '8.1' });
    assert.deepEqual(phpSupport('403'), { min: '8.0', max: '8.2' });
    assert.deepEqual(phpSupport('405'), { min: '8.1', max: '8.3' });
    assert.deepEqual(phpSupport('501'), { min: '8.2', max: '8.4' });
    assert.deepEqual(phpSupport('502'), { min: '8.3', max: '8.4' });
    assert.equal(phpSupport('999'), undefined);
  });

  it('a Moodle that does not support the image PHP is refused; patch levels do not matter; unknown branches pass', async () => {
    const legacy = makeMoodle(tmp('php'), { layout: 'legacy' });
    await assert.rejects(
      resolveMoodleSource(legacy, options({ phpVersion: '8.4' })),
      isSourceError(/^Moodle 4\.1\.2 \(Build: 20230313\) supports PHP 7\.4–8\.1; the lab's web image has PHP 8\.4$/),
    );
    const current = makeMoodle(tmp('php'));
    assert.equal((await resolveMoodleSource(current, options({ phpVersion: '8.4.14' }))).branch, '501');
    await assert.rejects(resolveMoodleSource(current, options({ phpVersion: '8.1' })), /supports PHP 8\.2–8\.4/);
    const future = makeMoodle(tmp('php'), { core: { version: 2027100600, release: '6.1dev', branch: '601' } });
    assert.equal((await resolveMoodleSource(future, options({ phpVersion: '8.5' }))).branch, '601');
  });
});

describe('Moodle source: archives', () => {
  for (const kind of ['tgz', 'zip', 'zip64'] as const) {
    it(`a ${kind} archive is extracted once into the cache, and reused`, async () => {
      const { file, tree } = await releaseArchive(kind);
      const opts = options();
      const s = await resolveMoodleSource(file, opts);
      const key = sha256(fs.readFileSync(file)).slice(0, 16);
      assert.equal(s.root, path.join(opts.cacheDir, 'extracted', key, 'moodle'));
      assert.equal(s.layout, 'public');
      assert.equal(s.origin, file);
      assert.ok(opts.lines.some((l) => l.startsWith('extracting ')));
      // Content-based: the extracted copy has the fingerprint of the folder it was made from.
      assert.equal(s.fingerprint, (await resolveMoodleSource(tree, options())).fingerprint);

      const before = fs.statSync(s.root);
      const again = options({ cacheDir: opts.cacheDir });
      const s2 = await resolveMoodleSource(file, again);
      assert.equal(s2.root, s.root);
      assert.equal(s2.fingerprint, s.fingerprint);
      assert.ok(!again.lines.some((l) => l.startsWith('extracting') || l.startsWith('hashing')), again.lines.join('\n'));
      assert.equal(fs.statSync(s2.root).ino, before.ino);
      assert.deepEqual(fs.readdirSync(path.join(opts.cacheDir, 'extracted')), [key]);
    });
  }

  it('a broken archive leaves no extraction behind to be reused', async () => {
    const { file } = await releaseArchive('tgz');
    const whole = fs.readFileSync(file);
    const broken = path.join(tmp('broken'), 'moodle.tgz');
    fs.writeFileSync(broken, whole.subarray(0, Math.floor(whole.length / 2)));
    const opts = options();
    await assert.rejects(resolveMoodleSource(broken, opts), isSourceError(/^cannot extract /));
    assert.deepEqual(fs.readdirSync(path.join(opts.cacheDir, 'extracted')), []);
  });

  it('a corrupt zip entry is caught by its CRC', async () => {
    const { file } = await releaseArchive('zip');
    const zip = fs.readFileSync(file);
    // The first entry's data starts after its 30-byte local header, name and extra field.
    const start = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
    zip[start + 2] = zip[start + 2]! ^ 0xff;
    const bad = path.join(tmp('badzip'), 'moodle.zip');
    fs.writeFileSync(bad, zip);
    const opts = options();
    await assert.rejects(resolveMoodleSource(bad, opts), isSourceError(/^cannot extract .*not a valid zip archive \(moodle\/\S+ is corrupt/));
    assert.deepEqual(fs.readdirSync(path.join(opts.cacheDir, 'extracted')), []);
  });

  it('entries that would land outside the extraction folder are refused', async () => {
    const outside = tmp('outside');
    const file = path.join(outside, 'evil.tgz');
    fs.writeFileSync(file, zlib.gzipSync(await tarOneFile('../escaped.txt', Buffer.from('x'))));
    await assert.rejects(resolveMoodleSource(file, options()), isSourceError(/unsafe path in archive: \.\.\/escaped\.txt/));
    assert.ok(!fs.existsSync(path.join(outside, 'escaped.txt')));
    assert.equal(safeEntryName('./moodle//public/version.php'), 'moodle/public/version.php');
    for (const name of ['/etc/passwd', 'C:/x', 'moodle/../../x', '..\\x']) assert.throws(() => safeEntryName(name), /unsafe path/, name);
  });

  it('a file that is no archive is refused', async () => {
    const file = path.join(tmp('plain'), 'moodle.tgz');
    fs.writeFileSync(file, 'not an archive at all');
    await assert.rejects(resolveMoodleSource(file, options()), isSourceError(/is not a \.tgz, \.tar\.gz, \.tar or \.zip archive/));
  });
});

describe('Moodle source: URLs (127.0.0.1 only)', () => {
  let archive: Buffer;
  before(async () => {
    archive = fs.readFileSync((await releaseArchive('tgz')).file);
  });

  it('downloads with progress, verifies the published sha256, and reuses the download without the network', async () => {
    const srv = await serve({ '/moodle-5.1.tgz': archive, '/moodle-5.1.tgz.sha256': `SHA256(moodle-5.1.tgz)= ${sha256(archive)}\n` });
    const opts = options();
    const url = `${srv.base}/moodle-5.1.tgz`;
    try {
      const s = await resolveMoodleSource(url, opts);
      assert.equal(s.origin, url);
      assert.equal(s.release, CORE.release);
      assert.ok(opts.lines.includes(`downloaded 100% of ${(archive.length / 1048576).toFixed(1)} MiB`), opts.lines.join('\n'));
      assert.ok(opts.lines.some((l) => l.startsWith('sha256 verified against ')));
      assert.deepEqual(srv.hits, ['/moodle-5.1.tgz', '/moodle-5.1.tgz.sha256']);
    } finally {
      await srv.close();
    }
    let calls = 0;
    const offline: typeof fetch = async () => {
      calls++;
      throw new TypeError('fetch failed');
    };
    const s2 = await resolveMoodleSource(url, { ...opts, fetchImpl: offline });
    assert.equal(calls, 0);
    assert.equal(s2.release, CORE.release);
  });

  it('falls back to <url>.md5 when no .sha256 answers', async () => {
    const md5 = createHash('md5').update(archive).digest('hex');
    const srv = await serve({ '/m.tgz': archive, '/m.tgz.md5': `${md5}  m.tgz\n` });
    const opts = options();
    try {
      await resolveMoodleSource(`${srv.base}/m.tgz`, opts);
      assert.ok(
        opts.lines.some((l) => l.startsWith('md5 verified')),
        opts.lines.join('\n'),
      );
    } finally {
      await srv.close();
    }
  });

  it('a checksum mismatch is an error and the file is deleted', async () => {
    const srv = await serve({ '/moodle.tgz': archive, '/moodle.tgz.sha256': `${'0'.repeat(64)}  moodle.tgz\n` });
    const opts = options();
    try {
      await assert.rejects(
        resolveMoodleSource(`${srv.base}/moodle.tgz`, opts),
        isSourceError(/does not match its sha256 .*expected 0{64}, got [0-9a-f]{64}; the file was deleted/),
      );
      assert.deepEqual(fs.readdirSync(path.join(opts.cacheDir, 'downloads')), []);
    } finally {
      await srv.close();
    }
  });

  it('HTTP 404: one sentence with the offline hint', async () => {
    const srv = await serve({});
    const url = `${srv.base}/missing.tgz`;
    try {
      await assert.rejects(resolveMoodleSource(url, options()), (e: unknown) => {
        assert.ok(e instanceof MoodleSourceError);
        assert.equal(e.message, `cannot download ${url}: HTTP 404 Not Found; give a local folder or archive with --moodle-source for offline use`);
        return true;
      });
    } finally {
      await srv.close();
    }
  });

  it('connection refused: names the reason', async () => {
    const srv = await serve({});
    const url = `${srv.base}/moodle.tgz`;
    await srv.close();
    await assert.rejects(
      resolveMoodleSource(url, options()),
      isSourceError(
        /^cannot download http:\/\/127\.0\.0\.1:\d+\/moodle\.tgz: .*ECONNREFUSED.*; give a local folder or archive with --moodle-source for offline use$/,
      ),
    );
  });

  it('no source given: the pinned default release, checked against the sha256 published next to it', async () => {
    const asked: string[] = [];
    const fake: typeof fetch = async (input) => {
      asked.push(String(input));
      if (String(input) === DEFAULT_MOODLE.sha256Url) return new Response(`${'0'.repeat(64)}  moodle.tgz\n`, { status: 200 });
      return new Response(new Uint8Array(archive), { status: 200, headers: { 'content-length': String(archive.length) } });
    };
    assert.match(DEFAULT_MOODLE.url, /^https:\/\/download\.moodle\.org\/download\.php\/direct\/stable501\/moodle-5\.1\.\d+\.tgz$/);
    // The synthetic archive is not the real release: the published checksum must refuse it.
    await assert.rejects(resolveMoodleSource(undefined, options({ fetchImpl: fake })), isSourceError(/does not match its sha256/));
    assert.deepEqual(asked.sort(), [DEFAULT_MOODLE.url, DEFAULT_MOODLE.sha256Url].sort());
  });
});

describe('Moodle source: plugin dependencies', () => {
  it('a tree whose plugins are all satisfied passes (subplugins and ANY_VERSION included)', async () => {
    const s = await resolveMoodleSource(makeMoodle(tmp('deps')), options());
    await checkPluginDependencies(s);
  });

  it('names every failing plugin with its folder and what is missing', async () => {
    const plugins = {
      ...DEFAULT_PLUGINS,
      'enrol/muprog': plugin('enrol_muprog', "$plugin->dependencies = ['tool_mulib' => 2025100600, 'enrol_manual' => ANY_VERSION];"),
      'local/future': plugin('local_future').replace('2025092600', '2026042000'),
      'local/newer': plugin('local_newer', "$plugin->dependencies = ['tool_lp' => 2026010100];"),
      'local/old': plugin('local_old', '$plugin->incompatible = 501;'),
    };
    const s = await resolveMoodleSource(makeMoodle(tmp('deps'), { plugins }), options());
    await assert.rejects(checkPluginDependencies(s), (e: unknown) => {
      assert.ok(e instanceof MoodleSourceError);
      assert.match(e.message, /has 4 unmet plugin needs/);
      assert.match(e.message, /plugin enrol_muprog \(public\/enrol\/muprog\) depends on tool_mulib, which is not in the source/);
      assert.match(e.message, /plugin local_future \(public\/local\/future\) requires Moodle version 2026042000, but the source is 2025100600\.02/);
      assert.match(
        e.message,
        /plugin local_newer \(public\/local\/newer\) depends on tool_lp version 2026010100 or later, but the source has version 2025100600/,
      );
      assert.match(e.message, /plugin local_old \(public\/local\/old\) is marked incompatible with Moodle branch 501/);
      assert.doesNotMatch(e.message, /enrol_manual|assignsubmission/);
      return true;
    });
  });

  it('a missing subplugin dependency is found through db/subplugins.json, in a 4.x layout too', async () => {
    const for41 = (text: string) => text.replace('2025092600', '2022112800');
    const plugins = Object.fromEntries(
      Object.entries({
        ...DEFAULT_PLUGINS,
        'mod/assign/submission/onlinetext': plugin('assignsubmission_onlinetext', "$plugin->dependencies = ['assignsubmission_comments' => ANY_VERSION];"),
      }).map(([k, v]) => [k, for41(v)]),
    );
    const s = await resolveMoodleSource(makeMoodle(tmp('deps'), { layout: 'legacy', plugins }), options({ phpVersion: '8.1' }));
    await assert.rejects(
      checkPluginDependencies(s),
      isSourceError(
        /^plugin assignsubmission_onlinetext \(mod\/assign\/submission\/onlinetext\) depends on assignsubmission_comments, which is not in the source\.$/,
      ),
    );
  });

  it('version.php parsing: both array syntaxes, comments, ANY_VERSION, URLs in strings', () => {
    const p = parsePluginVersion(
      `<?php\n/* $plugin->requires = 1; */\n$plugin->version = 2024010100; // 2099\n# $plugin->dependencies = ['x_y' => 1];\n$plugin->release = 'v1 // see http://x';\n$plugin->dependencies = array('tool_a' => ANY_VERSION, "tool_b" => 2023);\n`,
    );
    assert.deepEqual(p, {
      component: undefined,
      version: 2024010100,
      requires: undefined,
      incompatible: undefined,
      dependencies: [
        { component: 'tool_a', version: undefined },
        { component: 'tool_b', version: 2023 },
      ],
    });
    assert.equal(stripPhpComments("$a = 'x // y'; // z\n"), "$a = 'x // y'; \n");
  });
});

describe('Moodle source: fingerprint', () => {
  it('is stable, cached (no re-hash), and changes when any file changes', async () => {
    const dir = makeMoodle(tmp('fp'));
    const opts = options();
    const first = await resolveMoodleSource(dir, opts);
    assert.ok(opts.lines.some((l) => l.startsWith('hashing the Moodle source')));
    const again = options({ cacheDir: opts.cacheDir });
    assert.equal((await resolveMoodleSource(dir, again)).fingerprint, first.fingerprint);
    assert.ok(!again.lines.some((l) => l.startsWith('hashing')), again.lines.join('\n'));
    // Another cache (so no record to reuse) agrees: the value is the content's, not the cache's.
    assert.equal((await resolveMoodleSource(dir, options())).fingerprint, first.fingerprint);

    // Same size, new content.
    const lib = path.join(dir, 'public', 'lib', 'moodlelib.php');
    fs.writeFileSync(lib, fs.readFileSync(lib, 'utf8').replace('get_string', 'get_strinG'));
    const changed = (await resolveMoodleSource(dir, options({ cacheDir: opts.cacheDir }))).fingerprint;
    assert.notEqual(changed, first.fingerprint);
    // A new file too; and removing it goes back to the earlier value.
    write(path.join(dir, 'public', 'local', 'extra.txt'), 'x');
    const added = (await resolveMoodleSource(dir, options({ cacheDir: opts.cacheDir }))).fingerprint;
    assert.notEqual(added, changed);
    fs.rmSync(path.join(dir, 'public', 'local', 'extra.txt'));
    assert.equal((await resolveMoodleSource(dir, options({ cacheDir: opts.cacheDir }))).fingerprint, changed);
  });
});
