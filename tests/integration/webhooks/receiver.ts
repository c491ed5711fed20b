import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request a receiver answered. */
export interface Received {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent (what the signature covers). */
  body: string;
  json: { id: string; seq: number; event: string; tenantId: string; chatId: string | null; createdAt: string; payload: unknown };
  /** The status it was answered with. */
  status: number;
}

/** What to answer: a status, or 'hang' to hold the request open until `release()`. */
export type Answer = number | 'hang';

export interface Receiver {
  url: string;
  /** Every answered request, in arrival order. */
  received: Received[];
  /** Requests being held ('hang'), and the most held at once. */
  held: () => number;
  maxHeld: () => number;
  /** Decides each answer from the request and how many came before it (default 200). */
  answer: (request: Omit<Received, 'status'>, index: number) => Answer;
  /** Answers every held request with this status. */
  release(status?: number): void;
  /** Resolves when `check(received)` holds; checked on every request. */
  until(check: (received: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening (connections refused) and cuts open connections (held requests count as received, status 0); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A real local HTTP receiver for webhook tests. */
export async function startReceiver(port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const heldResponses = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let maxHeld = 0;
  let seen = 0;
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request = { headers: req.headers, body, json: JSON.parse(body) as Received['json'] };
      const decision = receiver.answer(request, seen++);
      if (decision === 'hang') {
        heldResponses.add(res);
        maxHeld = Math.max(maxHeld, heldResponses.size);
        (res as ServerResponse & { request?: Omit<Received, 'status'> }).request = request;
        notify();
        return;
      }
      received.push({ ...request, status: decision });
      res.writeHead(decision, { 'content-type': 'text/plain' }).end('ok');
      notify();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const boundPort = await listen(port);

  const receiver: Receiver = {
    url: `http://127.0.0.1:${boundPort}/hook`,
    received,
    held: () => heldResponses.size,
    maxHeld: () => maxHeld,
    answer: () => 200,
    release(status = 200) {
      for (const res of [...heldResponses]) {
        heldResponses.delete(res);
        const request = (res as ServerResponse & { request?: Omit<Received, 'status'> }).request;
        if (request !== undefined) received.push({ ...request, status });
        res.writeHead(status).end();
      }
      notify();
    },
    until(check, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const attempt = (): boolean => {
          if (!check(received)) return false;
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve();
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(attempt);
          reject(new Error(`receiver condition not met within ${timeoutMs} ms; received ${received.length} (${received.map((r) => `${r.json.seq}:${r.status}`).join(' ')})`));
        }, timeoutMs);
        if (!attempt()) waiters.add(attempt);
      });
    },
    async stop() {
      // A held request was received but never answered: it counts, with status 0.
      for (const res of heldResponses) {
        const request = (res as ServerResponse & { request?: Omit<Received, 'status'> }).request;
        if (request !== undefined) received.push({ ...request, status: 0 });
      }
      heldResponses.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async start() {
      await listen(boundPort);
    },
    async close() {
      if (server.listening) await receiver.stop();
    },
  };
  return receiver;
}
