import { randomBytes } from 'node:crypto';
import type { Message } from '../../../src/domain/types.js';
import type { Store } from '../../../src/store/types.js';
import { api, login, uniqueEmail, type Account } from '../../helpers/client.js';

/**
 * A victim tenant worth attacking (an admin, employees in three states, chats with messages and a stored
 * file) and an attacker tenant, made through the API (accounts) and the store (WhatsApp history, which
 * only a live session writes otherwise). Every victim string carries a marker, so a leak is a substring.
 */

export const MARKER = 'VICTIMSECRET';

export interface Person {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export interface VictimTenant {
  tenantId: string;
  admin: Person;
  /** Holds `assignedChat`. */
  assigned: Person;
  /** Holds no chat. */
  unassigned: Person;
  /** Was disabled after logging in: its tokens are still well signed. */
  deleted: Person;
  chatIds: string[];
  /** The chat `assigned` holds. */
  assignedChat: string;
  /** A message with a stored file. */
  mediaMessageId: string;
  /** A webhook of the victim (disabled: it must deliver nothing during the attacks). */
  webhookId: string;
  messageIds: string[];
  /** Every value that belongs to the victim and must never reach an outsider. */
  secrets: string[];
}

export interface World {
  victim: VictimTenant;
  /** Another tenant's admin. */
  attacker: Person;
}

const PASSWORD = 'correct horse battery';

function person(account: Account, password: string): Person {
  return { id: account.user.id, email: account.user.email, password, accessToken: account.accessToken, refreshToken: account.refreshToken };
}

async function employee(base: string, admin: Person, name: string): Promise<Person> {
  const email = uniqueEmail(name.toLowerCase());
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const res = await api(base, 'POST', '/api/auth/create-station', { token: admin.accessToken, body: { name: `${name} ${MARKER}`, email, password } });
  if (res.status !== 201) throw new Error(`create-station answered ${res.status}: ${res.text}`);
  return person(await login(base, email, password), password);
}

export async function registerAdmin(base: string, name: string): Promise<Account> {
  const res = await api<Account>(base, 'POST', '/api/auth/register', { body: { name, email: uniqueEmail('admin'), password: PASSWORD } });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${res.text}`);
  return res.body;
}

/** Random digits, so chat ids of one run never collide with another's. */
function number(): string {
  return `49${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

export async function buildWorld(base: string, store: Store): Promise<World> {
  const victimAccount = await registerAdmin(base, `Victim ${MARKER}`);
  const admin = person(victimAccount, PASSWORD);
  const tenantId = victimAccount.user.tenantId;
  const [assigned, unassigned, deleted] = [
    await employee(base, admin, 'Assigned'),
    await employee(base, admin, 'Unassigned'),
    await employee(base, admin, 'Deleted'),
  ];
  const tag = randomBytes(4).toString('hex');
  const chatIds = [`${number()}@c.us`, `${number()}@c.us`, `${number()}-${tag}@g.us`];
  await store.chats.upsertMany(
    tenantId,
    chatIds.map((id, i) => ({ id, name: `${MARKER} chat ${i}`, isGroup: id.endsWith('@g.us'), unreadCount: 0, lastMessageAt: null, lastMessagePreview: null })),
  );
  const messages: Message[] = chatIds.flatMap((chatId, c) =>
    Array.from({ length: 3 }, (_, m) => ({
      id: `${MARKER}-${tag}-${c}-${m}`,
      chatId,
      from: m % 2 === 0 ? chatId : 'me@c.us',
      fromMe: m % 2 === 1,
      body: `${MARKER} body ${c}.${m}`,
      timestamp: new Date(Date.UTC(2030, 0, 1, 0, c, m)).toISOString(),
      type: 'chat' as const,
      hasMedia: false,
      ack: 1 as const,
    })),
  );
  const mediaMessageId = `${MARKER}-${tag}-file`;
  const assignedChat = chatIds[0] as string;
  messages.push({ id: mediaMessageId, chatId: assignedChat, from: assignedChat, fromMe: false, body: `${MARKER} caption`, timestamp: new Date(Date.UTC(2030, 0, 2)).toISOString(), type: 'document', hasMedia: true, ack: 1 });
  await store.messages.insertMany(tenantId, messages);
  await store.media.put(tenantId, { messageId: mediaMessageId, mimetype: 'application/pdf', filename: `${MARKER}-contract.pdf`, data: Buffer.from(`${MARKER} file bytes`) });

  const assign = await api(base, 'POST', '/api/permissions/assign', { token: admin.accessToken, body: { employeeId: assigned.id, chatId: assignedChat } });
  if (assign.status !== 204) throw new Error(`assign answered ${assign.status}`);
  const del = await api(base, 'DELETE', `/api/auth/employees/${deleted.id}`, { token: admin.accessToken });
  if (del.status !== 204) throw new Error(`delete answered ${del.status}`);

  const hook = await api<{ id: string }>(base, 'POST', '/api/webhooks', {
    token: admin.accessToken,
    body: { url: `https://hooks.example.test/${MARKER}`, events: ['message'], enabled: false },
  });
  if (hook.status !== 201) throw new Error(`webhook answered ${hook.status}: ${hook.text}`);
  const webhookId = hook.body.id;

  const secrets = [
    MARKER,
    tenantId,
    admin.id,
    admin.email,
    assigned.id,
    assigned.email,
    deleted.id,
    deleted.email,
    webhookId,
    ...chatIds,
    ...messages.map((m) => m.id),
  ];
  const victim: VictimTenant = {
    tenantId,
    admin,
    assigned,
    unassigned,
    deleted,
    chatIds,
    assignedChat,
    mediaMessageId,
    webhookId,
    messageIds: messages.map((m) => m.id),
    secrets,
  };
  const attacker = person(await registerAdmin(base, 'Mallory'), PASSWORD);
  return { victim, attacker };
}
