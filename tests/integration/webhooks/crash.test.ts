import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';
import { testNodeEnv } from '../../helpers/stack.js';
import { startReceiver, type Receiver } from './receiver.js';
import { storeMessages } from './helpers.js';

/**
 * Any node delivers, and a node that dies mid-delivery loses nothing: a real node process delivers,
 * is SIGKILLed with a request in flight while the receiver goes down, events keep being written, a second
 * node process starts, the receiver comes back, and every event arrives, once per id, in order.
 */
const FIXTURE = new URL('./fixtures/node-process.ts', import.meta.url).pathname;
let db: TestDatabase;
let receiver: Receiver;
const children: ChildProcess[] = [];

function startNodeProcess(nodeId: string): Promise<ChildProcess> {
  const env: Record<string, string> = testNodeEnv({
    PATH: process.env.PATH ?? '',
    JWT_SECRET: 'crash-test-secret-0123456789abcdef0123',
    TEST_SCHEMA: db.schema,
    NODE_ID: nodeId,
    WA_ENGINE: 'sandbox',
    WEBHOOK_POLL_MS: '20',
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_BACKOFF_BASE_MS: '50',
    WEBHOOK_BACKOFF_MAX_MS: '400',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  });
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${nodeId} did not start:\n${output}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('READY ')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`node ${nodeId} exited (${code ?? signal}):\n${output}`));
    });
  });
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const child of children) await kill(child, 'SIGKILL');
  await receiver?.close();
  await db?.close();
});

describe('a node killed mid-delivery', () => {
  it('loses no event: after the receiver is back, each arrives once per id, in order, from another node', async () => {
    const { tenantId } = await seedTenant(db.store);
    const webhook = await db.store.webhooks.create(tenantId, { url: receiver.url, events: ['message'], secret: 'crash-secret-0123456789', enabled: true, maxConcurrency: 1 });
    const first = await startNodeProcess('node-a');

    await storeMessages(db.store, tenantId, 5, 'before');
    await receiver.until((got) => got.length === 5);

    // The next request is held open: node A is mid-delivery when it is killed, and the receiver goes down.
    receiver.answer = () => 'hang';
    await storeMessages(db.store, tenantId, 1, 'in flight');
    await expect.poll(() => receiver.held(), { timeout: 10_000 }).toBe(1);
    await kill(first, 'SIGKILL');
    await receiver.stop();

    await storeMessages(db.store, tenantId, 9, 'while down');
    await startNodeProcess('node-b');
    // Node B retries against a receiver that refuses connections; then the receiver comes back.
    await expect
      .poll(async () => (await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 50 })).some((d) => d.attempts.some((a) => a.error !== null)), { timeout: 15_000 })
      .toBe(true);
    receiver.answer = () => 200;
    await receiver.start();
    await receiver.until((got) => got.filter((g) => g.status === 200).length === 15, 30_000);

    const ok = receiver.received.filter((g) => g.status === 200);
    const stored = (await db.store.outbox.read(tenantId, { after: 0, limit: 100 })).events.filter((e) => e.name === 'message');
    expect(ok.map((g) => g.json.id)).toEqual(stored.map((e) => e.id));
    expect(new Set(ok.map((g) => g.json.id)).size).toBe(15);
    // The request cut by the kill came again, with the same id and body, as did anything else that repeated.
    expect(receiver.received.filter((g) => g.json.id === stored[5]?.id).map((g) => g.status)).toEqual([0, 200]);
    for (const g of receiver.received) expect(ok.find((o) => o.json.id === g.json.id)?.body).toBe(g.body);
    const seqs = receiver.received.map((g) => g.json.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1]!);
    // Node B delivered what node A held when it died.
    const inFlight = (await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 50 })).find((d) => d.seq === stored[5]?.seq);
    expect(inFlight?.state).toBe('succeeded');
    expect(inFlight?.attempts.at(-1)?.statusCode).toBe(200);
  }, 90_000);
});
