/**
 * The webview side of the protocol: one transport (VS Code's postMessage or a WebSocket),
 * `ready` once our listener is attached, intents with ids and timeouts, replies matched by id.
 */
import { Intent, Ready, validateHostMessage, WireMessage, SnapshotMessage, ReplyParams } from '../src/protocol/messages';
import type { LabSnapshot } from '../src/protocol/snapshot';

export interface Bootstrap {
  lab: string;
  transport: 'vscode' | 'websocket';
  wsUrl?: string;
}

interface RawTransport {
  send(m: WireMessage): void;
}

declare function acquireVsCodeApi(): { postMessage(m: unknown): void };

export class LabClient {
  private transport: RawTransport | undefined;
  private readonly pending = new Map<string, { resolve: (r: ReplyParams) => void; timer: ReturnType<typeof setTimeout> }>();
  private seq = 0;
  revision = 0;

  constructor(
    private readonly boot: Bootstrap,
    private readonly onSnapshot: (s: LabSnapshot) => void,
    private readonly onConnection: (state: 'open' | 'closed') => void,
    private readonly timeoutMs = 180_000,
  ) {}

  connect(): void {
    if (this.boot.transport === 'vscode') {
      const api = acquireVsCodeApi();
      window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
      this.transport = { send: (m) => api.postMessage(m) };
      this.transport.send(Ready.create({}));
      this.onConnection('open');
      return;
    }
    const url = new URL(this.boot.wsUrl ?? '/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    ws.addEventListener('message', (e) => {
      try {
        this.receive(JSON.parse(String(e.data)));
      } catch {
        // not JSON: ignore
      }
    });
    ws.addEventListener('open', () => {
      this.transport = { send: (m) => ws.send(JSON.stringify(m)) };
      this.transport.send(Ready.create({}));
      this.onConnection('open');
    });
    ws.addEventListener('close', () => {
      this.transport = undefined;
      this.onConnection('closed');
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve({ ok: false, error: 'connection to the lab host lost' });
        this.pending.delete(id);
      }
      setTimeout(() => this.connect(), 2000);
    });
  }

  /** Sends an intent; resolves with the host's reply (or a timeout / connection error). */
  request<P>(intent: Intent<P>, params: P): Promise<ReplyParams> {
    const id = `i${++this.seq}`;
    if (!this.transport) return Promise.resolve({ ok: false, error: 'not connected to the lab host' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: `no answer after ${this.timeoutMs / 1000} s` });
      }, this.timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.transport?.send(intent.create(id, params, this.revision));
    });
  }

  private receive(raw: unknown): void {
    const m = validateHostMessage(raw);
    if (!m) return;
    if (SnapshotMessage.is(m)) {
      this.revision = m.params.snapshot.revision;
      this.onSnapshot(m.params.snapshot);
      return;
    }
    const p = this.pending.get(m.id ?? '');
    if (p) {
      clearTimeout(p.timer);
      this.pending.delete(m.id ?? '');
      p.resolve(m.params as ReplyParams);
    }
  }
}
