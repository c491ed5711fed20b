import { createLogger } from '../../../src/domain/log.js';
import type { Message } from '../../../src/domain/types.js';
import type { Store } from '../../../src/store/types.js';
import { createWebhookQueue } from '../../../src/store/webhooks.js';
import { createWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from '../../../src/webhooks/worker.js';
import type { TestDatabase } from '../../helpers/db.js';

/** Short settings so retries and polls happen in milliseconds, not seconds. */
export const FAST: WebhookWorkerOptions = {
  concurrency: 8,
  timeoutMs: 2_000,
  pollMs: 20,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  retryWindowMs: 60_000,
  disableAfterMs: 60_000,
  allowPrivateUrls: true,
};

export const CHAT = '4910000000001@c.us';

let counter = 0;
/** An inbound text message in CHAT. */
export function inbound(body: string, chatId = CHAT): Message {
  counter++;
  return {
    id: `wh-${Date.now().toString(36)}-${counter}`,
    chatId,
    from: chatId,
    fromMe: false,
    body,
    timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, counter)).toISOString(),
    type: 'chat',
    hasMedia: false,
    ack: 1,
  };
}

/** A worker on the test database (a "node"); close it in the test. */
export function startWorker(db: TestDatabase, nodeId: string, options: Partial<WebhookWorkerOptions> = {}): WebhookWorker {
  const worker = createWebhookWorker({
    queue: createWebhookQueue(db.sql),
    nodeId,
    log: createLogger({ level: 'silent' }),
    options: { ...FAST, ...options },
  });
  worker.start();
  return worker;
}

/** Stores `n` inbound messages, one transaction each; resolves with their `message` event seqs. */
export async function storeMessages(store: Store, tenantId: string, n: number, label = 'm'): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    const m = inbound(`${label} ${i + 1}`);
    await store.messages.insertMany(tenantId, [m]);
    out.push(m);
  }
  return out;
}
