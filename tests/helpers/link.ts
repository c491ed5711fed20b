import { api, connectSocket, decodeQrDataUrl, phone, register, type Account, type RecordedSocket } from './client.js';
import type { TestStack } from './stack.js';

let seq = 0;
/** A phone number unused in this run, under `prefix` (tests keep prefixes apart). */
export function newNumber(prefix: string): string {
  return `${prefix}${String(Date.now() % 1_000_000).padStart(6, '0')}${String(seq++).padStart(2, '0')}`;
}

export interface LinkedTenant {
  admin: Account;
  socket: RecordedSocket;
  /** The tenant's business phone, linked. */
  number: string;
  /** A contact phone, created but silent. */
  contact: string;
  /** The contact's chat id. */
  chatId: string;
}

/**
 * A tenant as a user makes one: business and contact phones on the simulator, register, open the socket,
 * init, decode the QR image, scan it with the business phone, wait for `connected`.
 */
export async function linkWithContact(stack: TestStack, prefix: string): Promise<LinkedTenant> {
  const number = newNumber(prefix);
  const contact = newNumber(prefix);
  await phone(stack.simUrl, 'POST', '/phones', { number, name: 'Business' });
  await phone(stack.simUrl, 'POST', '/phones', { number: contact, name: 'Contact' });
  const admin = await register(stack.url, 'Admin');
  const socket = await connectSocket(stack.url, admin.accessToken);
  await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
  const qr = decodeQrDataUrl(await socket.next<string>('qr'));
  await phone(stack.simUrl, 'POST', `/phones/${number}/link`, { qr });
  await socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');
  return { admin, socket, number, contact, chatId: `${contact}@c.us` };
}
