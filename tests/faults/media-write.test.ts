import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/types.js';
import { api, phone } from '../helpers/client.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { contacts, linkTenant, type LinkedTenant } from '../security/support/link.js';

/**
 * Media bytes live in PostgreSQL (table `media`), not in a folder, so "the media disk is full" is the
 * database refusing a write with SQLSTATE 53100 (disk_full). A trigger in this test's own schema makes
 * the next N writes of a table fail that way (a sequence counts them: sequences ignore rollbacks). The
 * checks: nothing is left half-written (a message without its bytes, part of a batch), the API answers
 * a clear 503, and once space is back everything is stored exactly once.
 */

let stack: TestStack;
let sql: postgres.Sql;
let tenant: LinkedTenant;
let customer: string;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined, connection: { search_path: stack.schema } });
  await sql.unsafe(`
    CREATE TABLE fault_budget (target text PRIMARY KEY, fail_first int NOT NULL);
    CREATE SEQUENCE fault_writes;
    CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${stack.schema} AS $$
    BEGIN
      IF nextval('fault_writes') <= coalesce((SELECT fail_first FROM fault_budget WHERE target = TG_TABLE_NAME), 0) THEN
        RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER media_disk_full BEFORE INSERT OR UPDATE ON media FOR EACH ROW EXECUTE FUNCTION disk_full();
    CREATE TRIGGER messages_disk_full BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION disk_full();
  `);
  tenant = await linkTenant(stack.url, stack.simUrl, 'Full disk');
  [customer] = (await contacts(stack.simUrl, 1, 'Sender')) as [string];
});

afterAll(async () => {
  tenant?.socket.close();
  await sql?.end();
  await stack?.close();
});

/** The next `n` writes of `table` fail with disk_full. */
async function fillDisk(table: 'media' | 'messages', n: number): Promise<void> {
  await sql`SELECT setval('fault_writes', 1, false)`;
  await sql`INSERT INTO fault_budget (target, fail_first) VALUES (${table}, ${n}) ON CONFLICT (target) DO UPDATE SET fail_first = ${n}`;
}
async function freeDisk(): Promise<void> {
  await sql`DELETE FROM fault_budget`;
}

async function stored(id: string): Promise<{ message: boolean; media: boolean }> {
  const [row] = await sql<{ message: boolean; media: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM messages WHERE wa_message_id = ${id}) AS message,
           EXISTS (SELECT 1 FROM media WHERE wa_message_id = ${id}) AS media`;
  return row ?? { message: false, media: false };
}

/** Messages that claim a file whose bytes are not stored: a half-written message. */
async function halfWritten(): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM messages m
    WHERE m.has_media AND NOT EXISTS (SELECT 1 FROM media f WHERE f.tenant_id = m.tenant_id AND f.wa_message_id = m.wa_message_id)`;
  return row?.n ?? -1;
}

const pdf = (text: string) => ({ mimetype: 'application/pdf', filename: 'invoice.pdf', dataBase64: Buffer.from(text).toString('base64') });

describe('media writes on a full disk', () => {
  it('stores an inbound file with its message once space is back, never one without the other', async () => {
    await fillDisk('media', 3);
    const from = tenant.socket.events.length;
    const res = await phone(stack.simUrl, 'POST', `/phones/${customer}/messages`, { to: tenant.number, body: 'the invoice', media: pdf('%PDF invoice 1') });
    const id = (res.body as { id: string }).id;
    // Three refused writes, retried by the ingest; meanwhile the message is not half there.
    await stack.sim.until(() => stack.sim.stats().pending === 0);
    expect(await stored(id)).toEqual({ message: true, media: true });
    expect(await halfWritten()).toBe(0);
    const published = tenant.socket.events.slice(from).filter((e) => e.name === 'message' && (e.payload as Message).id === id);
    expect(published.length).toBe(1);
    const file = await fetch(`${stack.url}/api/media/${id}`, { headers: { authorization: `Bearer ${tenant.admin.accessToken}` } });
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).toString()).toBe('%PDF invoice 1');
    await freeDisk();
  });

  it('keeps a batch of messages all-or-nothing while writes fail, then stores each once', async () => {
    await fillDisk('messages', 4);
    const from = tenant.socket.events.length;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await phone(stack.simUrl, 'POST', `/phones/${customer}/messages`, { to: tenant.number, body: `batch ${i}` });
      ids.push((res.body as { id: string }).id);
    }
    await stack.sim.until(() => stack.sim.stats().pending === 0);
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages WHERE wa_message_id = ANY(${ids})`;
    expect(row?.n).toBe(5);
    const published = tenant.socket.events.slice(from).filter((e) => e.name === 'message' && ids.includes((e.payload as Message).id));
    expect(published.length).toBe(5);
    await freeDisk();
  });

  it('answers a clear 503 to a file sent while the disk is full, and stores it with its bytes later', async () => {
    await fillDisk('media', 1_000_000);
    const upload = await api<{ statusCode: number; code: string; message: string }>(stack.url, 'POST', `/api/chats/${customer}@c.us/messages`, {
      token: tenant.admin.accessToken,
      body: { body: 'your receipt', media: pdf('%PDF receipt') },
    });
    expect(upload.status).toBe(503);
    expect(upload.body).toMatchObject({ statusCode: 503, code: 'WA_STORE_UNAVAILABLE', message: 'The database is unavailable; try again shortly' });
    // The message did reach WhatsApp (the network took it before the database refused): once space is
    // back, the session's own copy of it is stored, bytes included, exactly once.
    const sent = (await phone(stack.simUrl, 'GET', `/phones/${customer}/messages`)).body as { messages: { id: string; body: string }[] };
    const receipt = sent.messages.find((m) => m.body === 'your receipt');
    expect(receipt).toBeDefined();
    const id = receipt?.id ?? '';
    expect(await stored(id)).toEqual({ message: false, media: false });
    expect(await halfWritten()).toBe(0);
    await freeDisk();
    await tenant.socket.next<Message>('message', (m) => m.id === id, { timeoutMs: 30_000 });
    await stack.node.sessions.drain();
    expect(await stored(id)).toEqual({ message: true, media: true });
    expect(await halfWritten()).toBe(0);
    console.info('faults: disk_full on media and message writes: 0 half-written, 0 lost, API 503');
  }, 60_000);
});
