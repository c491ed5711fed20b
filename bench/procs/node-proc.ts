import { randomUUID } from 'node:crypto';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/domain/log.js';
import type { Chat, Message } from '../../src/domain/types.js';
import type { RealtimeEvent } from '../../src/http/realtime/index.js';
import { startNode } from '../../src/node.js';
import { serveIpc } from '../lib/ipc.js';

/**
 * One gateway node in its own process (run from the esbuild output, so actors boot as plain JS), driven
 * by the bench over IPC: seed data, link sessions through the real QR flow, publish events, close.
 * Env: the node's config variables, plus BENCH_SCHEMA and BENCH_RESTORE (1/0).
 */

type DecodeQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR = (jsQRModule as unknown as { default: DecodeQr }).default;

const startedAt = performance.timeOrigin;
const config = loadConfig(process.env);
const log = createLogger({ level: config.LOG_LEVEL });
const node = await startNode({ config, log, schema: process.env.BENCH_SCHEMA, restore: process.env.BENCH_RESTORE === '1' });

// Taps the node's realtime channel: QR images and statuses reach the bench without a socket per tenant.
const waiting = new Map<string, (event: RealtimeEvent) => void>();
const connected = new Set<string>();
const connectedWaiters = new Set<() => void>();
// Inbound runs: how long from the sender's send (its time is in the body, `<tag>:<seq>:<ms>`) until the
// node publishes the stored message. The rest of the end-to-end latency is the socket delivery.
const SENT_AT = /^[^:]+:\d+:(\d+\.\d+)$/;
let toPublish: number[] = [];
const publish = node.realtime.publish.bind(node.realtime);
node.realtime.publish = (tenantId, event) => {
  if (event.name === 'message') {
    const sentAt = SENT_AT.exec((event.payload as { body?: string }).body ?? '')?.[1];
    if (sentAt !== undefined) toPublish.push(performance.timeOrigin + performance.now() - Number(sentAt));
  }
  if (event.name === 'session_status' && (event.payload as { status?: string }).status === 'connected') {
    connected.add(tenantId);
    for (const w of connectedWaiters) w();
  }
  waiting.get(tenantId)?.(event);
  publish(tenantId, event);
};

function decodeQr(dataUrl: string): string {
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height);
  if (code === null) throw new Error('QR not decodable');
  return code.data;
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text}`);
}

/** init -> qr (PNG decoded) -> the phone scans it on the simulator -> connected. */
async function linkOne(tenantId: string, number: string, simUrl: string): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tenant ${tenantId} not connected in 120 s`)), 120_000);
    let scanning = false;
    waiting.set(tenantId, (event) => {
      if (event.name === 'qr' && !scanning) {
        scanning = true;
        post(`${simUrl}/phones/${number}/link`, { qr: decodeQr(event.payload as string) }).catch(reject);
      }
      if (event.name === 'session_status' && (event.payload as { status?: string }).status === 'connected') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    await node.sessions.init(tenantId);
    await done;
  } finally {
    waiting.delete(tenantId);
  }
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

serveIpc(
  {
    /** Send -> publish latencies recorded since the last call (ms), then forgotten. */
    takePublishLatencies() {
      const taken = toPublish;
      toPublish = [];
      return taken;
    },
    /** Tenants with a dummy password hash (nobody logs in as them): the density runs. */
    async createTenants(args: { count: number; prefix: string }) {
      const ids: string[] = [];
      for (let i = 0; i < args.count; i++) {
        const { tenantId } = await node.store.tenants.createWithAdmin({
          tenantName: `${args.prefix} ${i}`,
          name: 'Bench Admin',
          email: `${args.prefix}-${i}-${randomUUID()}@bench.test`,
          passwordHash: 'bench-no-login',
        });
        ids.push(tenantId);
      }
      return ids;
    },
    async link(args: { tenants: { tenantId: string; number: string }[]; simUrl: string; concurrency: number }) {
      const t0 = performance.now();
      await pool(args.tenants, args.concurrency, (t) => linkOne(t.tenantId, t.number, args.simUrl));
      return { ms: performance.now() - t0 };
    },
    /** Chats (some assigned to an employee) and one long chat of messages, written through the store. */
    async seedReads(args: { tenantId: string; employeeId: string; chats: number; assigned: number; longChatMessages: number }) {
      const now = Date.now();
      const chats: Chat[] = Array.from({ length: args.chats }, (_, i) => ({
        id: `49${String(1_000_000_000 + i)}@c.us`,
        name: `Contact ${i}`,
        isGroup: false,
        unreadCount: i % 7,
        lastMessageAt: new Date(now - i * 60_000).toISOString(),
        lastMessagePreview: `last message of chat ${i}, long enough to look like a real preview line`,
      }));
      await node.store.chats.upsertMany(args.tenantId, chats);
      for (const chat of chats.slice(0, args.assigned)) await node.store.permissions.assign(args.tenantId, args.employeeId, chat.id);
      const longChat = chats[0] as Chat;
      for (let done = 0; done < args.longChatMessages; ) {
        const n = Math.min(2_000, args.longChatMessages - done);
        const batch: Message[] = Array.from({ length: n }, (_, k) => ({
          id: `BENCH${String(done + k).padStart(10, '0')}`,
          chatId: longChat.id,
          from: (done + k) % 3 === 0 ? 'me' : longChat.id,
          fromMe: (done + k) % 3 === 0,
          body: `message ${done + k}: a typical short text of about sixty characters`,
          timestamp: new Date(now - (args.longChatMessages - done - k) * 1000).toISOString(),
          type: 'chat',
          hasMedia: false,
          ack: 2,
        }));
        await node.store.messages.insertMany(args.tenantId, batch);
        done += n;
      }
      // Inserting messages moved the chat's last message: the list is read as it is now.
      return { longChatId: longChat.id, assignedChatIds: chats.slice(0, args.assigned).map((c) => c.id) };
    },
    /** Emits `count` message events to a tenant's rooms at `ratePerS`, from inside the server. */
    async publishLoop(args: { tenantId: string; count: number; ratePerS: number; bytes: number }) {
      const payload = { id: 'X', chatId: '491000000000@c.us', from: '491000000000@c.us', fromMe: false, body: 'x'.repeat(args.bytes), timestamp: new Date().toISOString(), type: 'chat', hasMedia: false, ack: 2 };
      const t0 = performance.now();
      const tickMs = 10;
      let sent = 0;
      while (sent < args.count) {
        const due = Math.min(args.count, Math.floor(((performance.now() - t0) / 1000) * args.ratePerS) + 1);
        for (; sent < due; sent++) node.realtime.publish(args.tenantId, { name: 'message', chatId: payload.chatId, payload: { ...payload, id: `E${sent}` } });
        await new Promise((r) => setTimeout(r, tickMs));
      }
      return { ms: performance.now() - t0 };
    },
    /**
     * Stores `count` inbound messages for a tenant through the store, `batch` per transaction (as ingest
     * does), at `ratePerS` (null: as fast as the store takes them). Each commit writes its outbox events:
     * the webhooks suite measures their delivery.
     */
    async storeMessages(args: { tenantId: string; count: number; batch: number; ratePerS: number | null; tag: string }) {
      const chatId = '491999000000@c.us';
      const t0 = performance.now();
      for (let done = 0; done < args.count; ) {
        if (args.ratePerS !== null) {
          const dueAt = (done / args.ratePerS) * 1000;
          const wait = dueAt - (performance.now() - t0);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const n = Math.min(args.batch, args.count - done);
        const batch: Message[] = Array.from({ length: n }, (_, k) => ({
          id: `WH${args.tag}-${done + k}`,
          chatId,
          from: chatId,
          fromMe: false,
          body: `webhook bench ${done + k}: ${'x'.repeat(300)}`,
          timestamp: new Date().toISOString(),
          type: 'chat',
          hasMedia: false,
          ack: 1,
        }));
        await node.store.messages.insertMany(args.tenantId, batch);
        done += n;
      }
      return { ms: performance.now() - t0 };
    },
    /** Resolves when `count` distinct tenants reported connected since this process started, or at the timeout. */
    async waitConnected(args: { count: number; timeoutMs: number }) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          connectedWaiters.delete(check);
          resolve();
        }, args.timeoutMs);
        const check = () => {
          if (connected.size < args.count) return;
          clearTimeout(timer);
          connectedWaiters.delete(check);
          resolve();
        };
        connectedWaiters.add(check);
        check();
      });
      return { sinceStartMs: performance.timeOrigin + performance.now() - startedAt, connected: connected.size, complete: connected.size >= args.count };
    },
    gc() {
      (globalThis as { gc?: () => void }).gc?.();
    },
    async drain() {
      await node.sessions.drain();
    },
  },
  { url: node.url, nodeId: node.nodeId },
);

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  node.close().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, 'bench node close failed');
      process.exit(1);
    },
  );
});
