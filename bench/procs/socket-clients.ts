import { io, type Socket } from 'socket.io-client';
import { serveIpc } from '../lib/ipc.js';
import { Receipts } from '../lib/receipts.js';

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
const receipts = new Receipts();

function onMessage(t: Tracked, payload: unknown): void {
  const m = payload as { id?: string; body?: string };
  const repeated = typeof m.id === 'string' && t.seen.has(m.id);
  if (typeof m.id === 'string') t.seen.add(m.id);
  receipts.record(m.body, repeated);
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
    receipts.reset(args.tag);
    for (const t of sockets) t.seen.clear();
  },
  report: () => receipts.report(),
  close() {
    for (const t of sockets) t.socket.close();
    sockets.length = 0;
  },
});
