import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveIpc } from '../lib/ipc.js';

/**
 * A webhook receiver in its own process for the webhooks suite: answers 200 at once, counts distinct
 * event ids and repeats, and measures each event's latency from its `createdAt` (the commit, on the same
 * machine's clock) to its receipt here.
 */

let seen = new Set<string>();
let duplicates = 0;
let latencies: number[] = [];
let firstReceipt = 0;
let lastReceipt = 0;
let outOfOrder = 0;
let lastSeq = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    res.writeHead(200).end();
    let body: { id?: string; seq?: number; createdAt?: string };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return; // the baseline's requests carry a fixed body: counted by autocannon, not here
    }
    if (typeof body.id !== 'string') return;
    if (seen.has(body.id)) {
      duplicates++;
      return;
    }
    seen.add(body.id);
    if (firstReceipt === 0) firstReceipt = now;
    lastReceipt = now;
    if (typeof body.seq === 'number') {
      if (body.seq < lastSeq) outOfOrder++;
      lastSeq = body.seq;
    }
    if (typeof body.createdAt === 'string') latencies.push(now - Date.parse(body.createdAt));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

serveIpc(
  {
    reset() {
      seen = new Set();
      duplicates = 0;
      latencies = [];
      firstReceipt = 0;
      lastReceipt = 0;
      outOfOrder = 0;
      lastSeq = 0;
    },
    report() {
      return { distinct: seen.size, duplicates, outOfOrder, firstReceipt, lastReceipt, latencies };
    },
  },
  { url },
);
