import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assign,
  bearer,
  createEmployee,
  createTestApp,
  registerAdmin,
  seedChat,
  seedMedia,
  type Account,
  type TestApp,
} from './helper.js';

/**
 * Two tenants with the same kinds of data. The attacker tenant, as admin and as employee, aims every
 * route at every id of the victim tenant. Each answer must be a 404 or 403, and no response body may
 * contain anything of the victim: ids, names, emails, chat names, message ids or bodies, file names.
 */

interface Side {
  admin: Account;
  employee: Account & { id: string };
  chatIds: string[];
  messageIds: string[];
  mediaIds: string[];
}

let t: TestApp;
let victim: Side;
let attacker: Side;
/** Every string that belongs to the victim only. */
let secrets: string[];

/** A chat id both tenants have (the same contact talks to both businesses). */
const SHARED_CHAT = '4917300000@c.us';

async function seedSide(label: string, chatIds: string[]): Promise<Side> {
  const admin = await registerAdmin(t.app, `${label} Admin Person`);
  const employee = await createEmployee(t.app, admin, `${label} Employee Person`);
  const tenantId = admin.session.user.tenantId;
  const messageIds: string[] = [];
  const mediaIds: string[] = [];
  for (const [i, chatId] of chatIds.entries()) {
    const { messages } = await seedChat(t.db.store, tenantId, { chatId, name: `${label} chat name ${i}`, count: 3, label: `${label}-c${i}` });
    messageIds.push(...messages.map((m) => m.id));
    const mediaId = `${label}-media-${i}`;
    await seedMedia(t.db.store, tenantId, {
      chatId,
      messageId: mediaId,
      mimetype: 'application/pdf',
      filename: `${label}-file-${i}.pdf`,
      data: Buffer.from(`${label} media bytes ${i}`),
      body: `${label} caption ${i}`,
    });
    mediaIds.push(mediaId);
  }
  // The employee holds the first chat; the rest are unassigned.
  const first = chatIds[0];
  if (first !== undefined) await assign(t.app, admin, employee.id, first);
  return { admin, employee, chatIds, messageIds, mediaIds };
}

beforeAll(async () => {
  t = await createTestApp();
  victim = await seedSide('Victim', ['4917311111@c.us', '4917322222@g.us', SHARED_CHAT]);
  attacker = await seedSide('Attacker', ['4917399999@c.us', SHARED_CHAT]);
  secrets = [
    victim.admin.session.user.tenantId,
    victim.admin.session.user.id,
    victim.employee.id,
    victim.admin.email,
    victim.employee.email,
    'Victim', // every victim name, chat name, message id, body, file name and media byte string contains it
    ...victim.chatIds.filter((id) => id !== SHARED_CHAT),
  ];
});
afterAll(async () => {
  await t?.close();
});

function expectNoLeak(res: LightMyRequestResponse, what: string): void {
  for (const secret of secrets) {
    expect(res.body.includes(secret), `${what} leaked ${secret}: ${res.body}`).toBe(false);
  }
}

type Call = { what: string; method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: Record<string, unknown> };

/** Every route that takes an id, aimed at each of the victim's ids. */
function attacks(): Call[] {
  const calls: Call[] = [];
  for (const chatId of victim.chatIds.filter((id) => id !== SHARED_CHAT)) {
    calls.push({ what: `messages of ${chatId}`, method: 'GET', url: `/api/chats/${chatId}/messages` });
    calls.push({ what: `assign ${chatId}`, method: 'POST', url: '/api/permissions/assign', payload: { employeeId: attacker.employee.id, chatId } });
    calls.push({ what: `revoke ${chatId}`, method: 'POST', url: '/api/permissions/revoke', payload: { employeeId: attacker.employee.id, chatId } });
  }
  for (const id of [...victim.mediaIds, ...victim.messageIds]) {
    calls.push({ what: `media ${id}`, method: 'GET', url: `/api/media/${id}` });
  }
  for (const userId of [victim.employee.id, victim.admin.session.user.id]) {
    calls.push({ what: `delete ${userId}`, method: 'DELETE', url: `/api/auth/employees/${userId}` });
    calls.push({ what: `permissions of ${userId}`, method: 'GET', url: `/api/permissions?employeeId=${userId}` });
    calls.push({ what: `assign to ${userId}`, method: 'POST', url: '/api/permissions/assign', payload: { employeeId: userId, chatId: attacker.chatIds[0] } });
    calls.push({ what: `revoke from ${userId}`, method: 'POST', url: '/api/permissions/revoke', payload: { employeeId: userId, chatId: attacker.chatIds[0] } });
  }
  return calls;
}

describe('tenant isolation', () => {
  for (const role of ['admin', 'employee'] as const) {
    it(`answers every route aimed at another tenant's ids with 404 or 403 to an ${role}, leaking nothing`, async () => {
      const who = role === 'admin' ? attacker.admin : attacker.employee;
      const calls = attacks();
      expect(calls.length).toBeGreaterThan(20);
      for (const call of calls) {
        const res = await t.app.inject({ method: call.method, url: call.url, headers: bearer(who.session.accessToken), payload: call.payload });
        if (role === 'admin') expect(res.statusCode, call.what).toBe(404);
        else expect([403, 404], call.what).toContain(res.statusCode);
        expectNoLeak(res, call.what);
      }
    });
  }

  it('answers an employee with 404 (not 403) for a chat that exists only in another tenant', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/chats/${victim.chatIds[0] ?? ''}/messages`,
      headers: bearer(attacker.employee.session.accessToken),
    });
    expect(res.statusCode).toBe(404);
  });

  it('lists only the caller\'s own tenant in every list route', async () => {
    for (const who of [attacker.admin, attacker.employee]) {
      for (const url of ['/api/chats', '/api/auth/employees', '/api/permissions']) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(who.session.accessToken) });
        expect([200, 403], url).toContain(res.statusCode);
        expectNoLeak(res, url);
      }
    }
  });

  it('serves a chat id both tenants have from the caller\'s own tenant only', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/chats/${SHARED_CHAT}/messages`, headers: bearer(attacker.admin.session.accessToken) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Attacker');
    expectNoLeak(res, 'shared chat');
  });

  it('leaves the victim untouched after all the attacks', async () => {
    const employees = await t.app.inject({ method: 'GET', url: '/api/auth/employees', headers: bearer(victim.admin.session.accessToken) });
    expect(employees.body).toContain(victim.employee.id);
    expect(employees.body).toContain('"disabled":false');
    const chats = await t.app.inject({ method: 'GET', url: '/api/chats', headers: bearer(victim.employee.session.accessToken) });
    expect(chats.statusCode).toBe(200);
    expect(chats.body).toContain(victim.chatIds[0]);
    const permissions = await t.db.store.permissions.listAll(victim.admin.session.user.tenantId);
    expect(permissions).toEqual([expect.objectContaining({ employeeId: victim.employee.id, chatId: victim.chatIds[0] })]);
  });
});
