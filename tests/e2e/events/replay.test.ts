import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Message } from '../../../src/domain/types.js';
import { api, connectSocket, decodeQrDataUrl, phone, register, type Account } from '../../helpers/client.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

/**
 * Replay over Socket.IO and REST on the whole product (simulator, node, PostgreSQL): a socket that drops
 * during a burst and reconnects with `auth.lastEventId` ends with every event it may see, in order, none
 * twice, for an admin and for an employee (its chats only).
 */

interface Got {
  name: string;
  payload: unknown;
  id: string | undefined;
  seq: number | undefined;
}

/** A client as docs/webhooks.md shows it: remembers the last event id and sends it when it reconnects. */
interface ReplayClient {
  socket: Socket;
  got: Got[];
  readies: { index: number; lastEventId: string | undefined }[];
  lastEventId: string | undefined;
  waitReady(count: number): Promise<void>;
}

function replayClient(base: string, token: string): ReplayClient {
  const client: ReplayClient = {
    got: [],
    readies: [],
    lastEventId: undefined,
    socket: io(base, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      // Called at every (re)connection: the server replays what came after this id.
      auth: (cb) => cb(client.lastEventId === undefined ? { token } : { token, lastEventId: client.lastEventId }),
    }),
    async waitReady(count) {
      await expect.poll(() => client.readies.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(count);
    },
  };
  client.socket.onAny((name: string, payload: unknown, meta?: { id?: string; seq?: number }) => {
    if (name === 'ready') {
      const info = payload as { lastEventId?: string };
      client.readies.push({ index: client.got.length, lastEventId: info.lastEventId });
      client.lastEventId = info.lastEventId ?? client.lastEventId;
      return;
    }
    client.got.push({ name, payload, id: meta?.id, seq: meta?.seq });
    if (meta?.id !== undefined) client.lastEventId = meta.id;
  });
  return client;
}

interface EventPage {
  events: { id: string; seq: number; event: string; chatId: string | null; payload: unknown }[];
  next: string;
  truncated: boolean;
}

async function allEvents(base: string, token: string, after: string): Promise<EventPage['events']> {
  const out: EventPage['events'] = [];
  let cursor = after;
  for (;;) {
    const page = await api<EventPage>(base, 'GET', `/api/events?after=${encodeURIComponent(cursor)}&limit=1000`, { token });
    expect(page.status).toBe(200);
    out.push(...page.body.events);
    if (page.body.next === cursor) return out;
    cursor = page.body.next;
  }
}

let numberSeq = 0;
const newNumber = (): string => `4916${String(Date.now() % 1_000_000).padStart(6, '0')}${String(numberSeq++).padStart(2, '0')}`;

describe('replay from a cursor', () => {
  let stack: TestStack;
  let admin: Account;
  let employee: Account;
  let business: string;
  const contacts = [newNumber(), newNumber()];

  beforeAll(async () => {
    stack = await startTestStack();
    business = newNumber();
    await phone(stack.simUrl, 'POST', '/phones', { number: business, name: 'Replay Shop' });
    for (const c of contacts) await phone(stack.simUrl, 'POST', '/phones', { number: c, name: `Contact ${c}` });
    admin = await register(stack.url, 'Replay');
    const linking = await connectSocket(stack.url, admin.accessToken);
    await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
    const qr = decodeQrDataUrl(await linking.next<string>('qr'));
    await phone(stack.simUrl, 'POST', `/phones/${business}/link`, { qr });
    for (const c of contacts) await phone(stack.simUrl, 'POST', `/phones/${c}/messages`, { to: business, body: 'hello' });
    await linking.next<Message>('message', (m) => m.chatId === `${contacts[1]}@c.us`);
    linking.close();
    const email = `replay-station-${Date.now()}@example.test`;
    const station = await api<{ id: string }>(stack.url, 'POST', '/api/auth/create-station', { token: admin.accessToken, body: { name: 'Desk', email, password: 'desk password' } });
    await api(stack.url, 'POST', '/api/permissions/assign', { token: admin.accessToken, body: { employeeId: station.body.id, chatId: `${contacts[0]}@c.us` } });
    employee = (await api<Account>(stack.url, 'POST', '/api/auth/login', { body: { email, password: 'desk password' } })).body;
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('gives a socket that drops during a burst every event after its lastEventId, in order, none twice', async () => {
    const a = replayClient(stack.url, admin.accessToken);
    const e = replayClient(stack.url, employee.accessToken);
    await a.waitReady(1);
    await e.waitReady(1);
    const adminStart = a.readies[0]!.lastEventId!;
    const employeeStart = e.readies[0]!.lastEventId!;
    expect(adminStart).toMatch(/^[0-9a-f-]{36}:\d+$/);

    // Two phones send messages as fast as the network takes them, in four phases around the drop.
    const send = (count: number, label: string) =>
      Promise.all(
        contacts.map(async (c) => {
          for (let i = 0; i < count; i++) await phone(stack.simUrl, 'POST', `/phones/${c}/messages`, { to: business, body: `burst ${label} ${c} ${i}` });
        }),
      );
    // Phase zero, live; then both sockets drop, and phase one happens while they are away.
    await send(10, 'zero');
    const burstSeen = (c: ReplayClient): number => c.got.filter((g) => g.name === 'message' && (g.payload as Message).body.startsWith('burst ')).length;
    await expect.poll(() => burstSeen(a), { timeout: 20_000 }).toBe(20);
    a.socket.disconnect();
    e.socket.disconnect();
    const missedFrom = a.got.length;
    await send(50, 'one');
    // Stored (the gateway is a step behind the phones): all of phase one is for the replay to bring.
    const storedOne = async (): Promise<number> =>
      (await allEvents(stack.url, admin.accessToken, adminStart)).filter((x) => x.event === 'message' && (x.payload as Message).body.startsWith('burst one ')).length;
    await expect.poll(storedOne, { timeout: 20_000 }).toBe(100);
    // Phase two starts with the reconnection: its events arrive while the replay runs.
    a.socket.connect();
    e.socket.connect();
    const during = send(60, 'two');
    await a.waitReady(2);
    await e.waitReady(2);
    await during;
    // Phase three: after `ready`, live events only.
    await send(10, 'three');
    await expect.poll(() => burstSeen(a), { timeout: 30_000 }).toBe(260);
    await expect.poll(() => burstSeen(e), { timeout: 30_000 }).toBe(130);
    const adminAll = await allEvents(stack.url, admin.accessToken, adminStart);
    const employeeAll = await allEvents(stack.url, employee.accessToken, employeeStart);

    // Every event after the first ready, in order, once: the same list the REST replay gives.
    const adminIds = a.got.filter((g) => g.id !== undefined).map((g) => g.id);
    expect(adminIds).toEqual(adminAll.map((x) => x.id));
    const seqs = a.got.map((g) => g.seq ?? 0);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] ?? 0) + i));
    expect(a.got.filter((g) => g.name === 'message')).toHaveLength(adminAll.filter((x) => x.event === 'message').length);
    // The reconnect replayed what was missed before `ready` (phase one: 100 messages), and live events followed.
    expect(a.got.slice(missedFrom, a.readies[1]!.index).filter((g) => g.name === 'message').length).toBeGreaterThanOrEqual(100);
    expect(a.got.length - a.readies[1]!.index).toBeGreaterThan(0);
    expect(a.readies[1]!.lastEventId).toBe(a.got[a.readies[1]!.index - 1]?.id);

    // The employee: only its chat's events, in order, none twice, replay included.
    const employeeIds = e.got.map((g) => g.id);
    expect(employeeIds).toEqual(employeeAll.map((x) => x.id));
    expect(new Set(employeeIds).size).toBe(employeeIds.length);
    expect(employeeAll.every((x) => x.chatId === `${contacts[0]}@c.us`)).toBe(true);
    expect(e.got.filter((g) => g.name === 'message')).toHaveLength(130);
    expect(e.readies[1]!.index).toBeGreaterThan(e.readies[0]!.index);

    a.socket.close();
    e.socket.close();
  }, 120_000);

  it('refuses a lastEventId of another tenant, and pages the REST replay with a stable cursor', async () => {
    const other = await register(stack.url, 'Other');
    const [first] = await allEvents(stack.url, admin.accessToken, '0');
    const refused = io(stack.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: other.accessToken, lastEventId: first!.id } });
    const error = await new Promise<Error & { data?: { code?: string } }>((resolve) => refused.once('connect_error', resolve));
    expect(error.data?.code).toBe('WA_VALIDATION');
    refused.close();
    expect((await api(stack.url, 'GET', `/api/events?after=${encodeURIComponent(first!.id)}`, { token: other.accessToken })).status).toBe(400);

    const page = await api<EventPage>(stack.url, 'GET', '/api/events?after=0&limit=3', { token: admin.accessToken });
    expect(page.body.events.map((x) => x.seq)).toEqual([1, 2, 3]);
    const next = await api<EventPage>(stack.url, 'GET', `/api/events?after=${encodeURIComponent(page.body.next)}&limit=3`, { token: admin.accessToken });
    expect(next.body.events.map((x) => x.seq)).toEqual([4, 5, 6]);
    expect((await api<EventPage>(stack.url, 'GET', '/api/events', { token: other.accessToken })).body.events).toEqual([]);
  });
});
