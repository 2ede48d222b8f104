/**
 * One file into a tar archive (for putArchive) and the first regular file out of one (from
 * getArchive), through `tar-stream`: no hand-written headers. Unit-tested without Docker.
 */
import * as tar from 'tar-stream';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export async function tarOneFile(name: string, content: Buffer, mode = 0o644, mtimeS = Math.floor(Date.now() / 1000)): Promise<Buffer> {
  const pack = tar.pack();
  const out = collect(pack);
  await new Promise<void>((resolve, reject) =>
    pack.entry({ name, size: content.length, mode, mtime: new Date(mtimeS * 1000), type: 'file' }, content, (err) => (err ? reject(err) : resolve())),
  );
  pack.finalize();
  return out;
}

/** The content of the first regular file in a tar archive, or undefined. */
export async function untarFirstFile(archive: Buffer): Promise<Buffer | undefined> {
  const extract = tar.extract();
  return new Promise<Buffer | undefined>((resolve, reject) => {
    let found: Buffer | undefined;
    extract.on('entry', (header, stream, next) => {
      const isFile = header.type === 'file' && found === undefined;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => isFile && chunks.push(c));
      stream.on('end', () => {
        if (isFile) found = Buffer.concat(chunks);
        next();
      });
      stream.resume();
    });
    extract.on('finish', () => resolve(found));
    extract.on('error', reject);
    extract.end(archive);
  });
}
