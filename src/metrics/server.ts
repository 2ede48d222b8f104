/**
 * A scrape endpoint for Prometheus on 127.0.0.1: `GET /metrics` answers the lab's status as
 * metrics (read from the cluster at most once a second, however often it is scraped) and, while a
 * load runs in this process, its counters and latency histogram. Used by `npm run lab -- metrics`
 * and by `load --metrics-port N`; the dashboard serves the same under its token.
 */
import * as http from 'node:http';
import type { LabStatus } from '../protocol/status';
import { LoadMetricsSource, OPENMETRICS_TYPE, PROMETHEUS_TYPE, renderMetrics, wantsOpenMetrics } from './openmetrics';
import { errText } from '../core/errors';

export interface MetricsSources {
  lab: string;
  status(): Promise<LabStatus>;
  /** The load run of this process, when there is one. */
  load?: () => LoadMetricsSource | undefined;
  /** Milliseconds a collected status is reused (default 1000). */
  maxAgeMs?: number;
  now?: () => number;
}

/** Status collection shared by concurrent scrapes and reused for `maxAgeMs`. */
export function cachedStatus(src: MetricsSources): () => Promise<LabStatus> {
  const now = src.now ?? Date.now;
  let last: { at: number; value: LabStatus } | undefined;
  let pending: Promise<LabStatus> | undefined;
  return () => {
    if (last && now() - last.at < (src.maxAgeMs ?? 1000)) return Promise.resolve(last.value);
    pending ??= src
      .status()
      .then((value) => {
        last = { at: now(), value };
        return value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** The body and content type of one scrape (`src.status` as the caller wants it read: cached, or a snapshot it holds). */
export async function scrape(src: Pick<MetricsSources, 'lab' | 'status' | 'load'>, accept: string | undefined): Promise<{ body: string; type: string }> {
  const openMetrics = wantsOpenMetrics(accept);
  const body = renderMetrics({ lab: src.lab, status: await src.status(), load: src.load?.(), openMetrics });
  return { body, type: openMetrics ? OPENMETRICS_TYPE : PROMETHEUS_TYPE };
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(src: MetricsSources, port = 0): Promise<MetricsServer> {
  const status = cachedStatus(src);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('only GET /metrics here\n');
      return;
    }
    scrape({ ...src, status }, req.headers.accept).then(
      ({ body, type }) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body),
      (err: unknown) => res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`status collection failed: ${errText(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on 127.0.0.1 is taken: choose another with --metrics-port/--port`) : err),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}/metrics`,
    port: bound,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
