import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { assign, bearer, createEmployee, createTestApp, expectError, json, registerAdmin, seedChat, type Account, type TestApp } from '../http/helper.js';

/** The REST side: /api/webhooks (admin only) and /api/events (employees: their chats), on the real app. */
let t: TestApp;
let admin: Account;
let tenantId: string;

beforeAll(async () => {
  // Default configuration: private webhook addresses are refused.
  t = await createTestApp();
  admin = await registerAdmin(t.app, 'Hooks');
  tenantId = admin.session.user.tenantId;
});
afterAll(async () => {
  await t?.close();
});

interface WebhookBody {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  maxConcurrency: number;
  secret?: string;
}

const create = (account: Account, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/api/webhooks', headers: bearer(account.session.accessToken), payload });

describe('/api/webhooks', () => {
  it('creates a webhook, shows its secret once, lists, changes and deletes it', async () => {
    const res = await create(admin, { url: 'https://hooks.example.com/wa', events: ['message', 'message.any', 'session_status'] });
    expect(res.statusCode, res.body).toBe(201);
    const created = json<WebhookBody>(res);
    expect(created).toMatchObject({ url: 'https://hooks.example.com/wa', enabled: true, maxConcurrency: 1, disabledReason: null });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);

    const list = json<WebhookBody[]>(await t.app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(admin.session.accessToken) }));
    expect(list.map((w) => w.id)).toContain(created.id);
    expect(JSON.stringify(list)).not.toContain(created.secret);

    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/webhooks/${created.id}`,
      headers: bearer(admin.session.accessToken),
      payload: { events: ['qr'], enabled: false, maxConcurrency: 4 },
    });
    expect(json<WebhookBody>(patched)).toMatchObject({ events: ['qr'], enabled: false, maxConcurrency: 4 });

    const deliveries = await t.app.inject({ method: 'GET', url: `/api/webhooks/${created.id}/deliveries`, headers: bearer(admin.session.accessToken) });
    expect(json(deliveries)).toEqual({ deliveries: [], nextBefore: null });

    expect((await t.app.inject({ method: 'DELETE', url: `/api/webhooks/${created.id}`, headers: bearer(admin.session.accessToken) })).statusCode).toBe(204);
    expectError(await t.app.inject({ method: 'GET', url: `/api/webhooks/${created.id}`, headers: bearer(admin.session.accessToken) }), 404, ErrorCodes.NOT_FOUND);
  });

  it('refuses bad input: unknown events, a non-http URL, a private address, a short secret', async () => {
    expectError(await create(admin, { url: 'https://ok.example.com', events: ['nope'] }), 400, ErrorCodes.VALIDATION);
    expectError(await create(admin, { url: 'ftp://ok.example.com', events: ['qr'] }), 400, ErrorCodes.VALIDATION);
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://10.1.2.3/x']) {
      const body = expectError(await create(admin, { url, events: ['qr'] }), 400, ErrorCodes.VALIDATION);
      expect(body.message).toMatch(/private|loopback/);
    }
    expectError(await create(admin, { url: 'https://ok.example.com', events: ['qr'], secret: 'short' }), 400, ErrorCodes.VALIDATION);
    expect(json<WebhookBody[]>(await t.app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(admin.session.accessToken) }))).toEqual([]);
  });

  it('is for admins only, and a webhook of another tenant is not found', async () => {
    const employee = await createEmployee(t.app, admin);
    expectError(await create(employee, { url: 'https://hooks.example.com/e', events: ['qr'] }), 403, ErrorCodes.FORBIDDEN);
    expectError(await t.app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(employee.session.accessToken) }), 403, ErrorCodes.FORBIDDEN);
    const mine = json<WebhookBody>(await create(admin, { url: 'https://hooks.example.com/mine', events: ['qr'] }));
    const stranger = await registerAdmin(t.app, 'Stranger');
    const auth = bearer(stranger.session.accessToken);
    expectError(await t.app.inject({ method: 'GET', url: `/api/webhooks/${mine.id}`, headers: auth }), 404, ErrorCodes.NOT_FOUND);
    expectError(await t.app.inject({ method: 'PATCH', url: `/api/webhooks/${mine.id}`, headers: auth, payload: { enabled: false } }), 404, ErrorCodes.NOT_FOUND);
    expectError(await t.app.inject({ method: 'DELETE', url: `/api/webhooks/${mine.id}`, headers: auth }), 404, ErrorCodes.NOT_FOUND);
    expectError(await t.app.inject({ method: 'GET', url: `/api/webhooks/${mine.id}/deliveries`, headers: auth }), 404, ErrorCodes.NOT_FOUND);
    expect((await t.app.inject({ method: 'GET', url: `/api/webhooks/${mine.id}`, headers: bearer(admin.session.accessToken) })).statusCode).toBe(200);
  });
});

describe('/api/events', () => {
  it('replays the tenant events in order from a cursor; an employee gets only its chats', async () => {
    const owner = await registerAdmin(t.app, 'Events');
    const tid = owner.session.user.tenantId;
    await seedChat(t.db.store, tid, { chatId: '4930000000001@c.us', name: 'One', count: 2, label: 'one' });
    await seedChat(t.db.store, tid, { chatId: '4930000000002@c.us', name: 'Two', count: 1, label: 'two' });
    const employee = await createEmployee(t.app, owner);
    await assign(t.app, owner, employee.id, '4930000000002@c.us');

    const all = json<{ events: { id: string; seq: number; event: string; chatId: string | null }[]; next: string; truncated: boolean }>(
      await t.app.inject({ method: 'GET', url: '/api/events?after=0', headers: bearer(owner.session.accessToken) }),
    );
    expect(all.events.map((e) => e.seq)).toEqual(all.events.map((_, i) => i + 1));
    expect(all.events.every((e) => e.id === `${tid}:${e.seq}`)).toBe(true);
    expect(all.next).toBe(`${tid}:${all.events.length}`);
    expect(all.truncated).toBe(false);
    expect(all.events.filter((e) => e.event === 'message').map((e) => e.chatId)).toEqual(['4930000000001@c.us', '4930000000001@c.us', '4930000000002@c.us']);

    const mine = json<{ events: { chatId: string | null }[]; next: string }>(
      await t.app.inject({ method: 'GET', url: '/api/events?after=0', headers: bearer(employee.session.accessToken) }),
    );
    expect(mine.events.length).toBeGreaterThan(0);
    expect(mine.events.every((e) => e.chatId === '4930000000002@c.us')).toBe(true);
    expect(mine.next).toBe(all.next);

    const later = await t.app.inject({ method: 'GET', url: `/api/events?after=${encodeURIComponent(all.next)}`, headers: bearer(owner.session.accessToken) });
    expect(json<{ events: unknown[] }>(later).events).toEqual([]);
    expectError(await t.app.inject({ method: 'GET', url: `/api/events?after=${tenantId}:1`, headers: bearer(owner.session.accessToken) }), 400, ErrorCodes.VALIDATION);
  });
});
