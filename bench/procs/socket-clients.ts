import { io, type Socket } from 'socket.io-client';
import { serveIpc } from '../lib/ipc.js';

/**
 * Socket.IO clients in their own process (one socket.io-client process tops out near 100k events/s, so
 * the bench spreads them). Records every `message` event: bench bodies `<tag>:<seq>:<sentAtMs>` give
 * end-to-end latency; duplicates are the same message id seen twice on one socket.
 */

interface Tracked {
  socket: Socket;
  seen: Set<string>;
}

const sockets: Tracked[] = [];
let received = 0;
let duplicates = 0;
let latencies: number[] = [];
let seqs: number[] = [];
let lastReceipt = 0;
let tag = '';

function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

function onMessage(t: Tracked, payload: unknown): void {
  const now = wallMs();
  const m = payload as { id?: string; body?: string };
  received++;
  lastReceipt = now;
  if (typeof m.id === 'string') {
    if (t.seen.has(m.id)) duplicates++;
    else t.seen.add(m.id);
  }
  if (tag !== '' && typeof m.body === 'string' && m.body.startsWith(`${tag}:`)) {
    const [, seq, sent] = m.body.split(':');
    seqs.push(Number(seq));
    latencies.push(now - Number(sent));
  }
}

function connect(url: string, token: string): Promise<void> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const t: Tracked = { socket, seen: new Set() };
  socket.on('message', (payload: unknown) => onMessage(t, payload));
  sockets.push(t);
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('ready', () => resolve());
  });
}

serveIpc({
  async connect(args: { url: string; tokens: string[] }) {
    for (let i = 0; i < args.tokens.length; i += 50) {
      await Promise.all(args.tokens.slice(i, i + 50).map((token) => connect(args.url, token)));
    }
    return { sockets: sockets.length };
  },
  /** Starts a measurement: counters reset, bench bodies with this tag tracked. */
  reset(args: { tag: string }) {
    received = 0;
    duplicates = 0;
    latencies = [];
    seqs = [];
    tag = args.tag;
    for (const t of sockets) t.seen.clear();
  },
  report: () => ({ received, duplicates, latencies, seqs, lastReceipt }),
  close() {
    for (const t of sockets) t.socket.close();
    sockets.length = 0;
  },
});
