import { randomInt } from 'node:crypto';
import { api, connectSocket, decodeQrDataUrl, phone, type Account, type RecordedSocket } from '../../helpers/client.js';
import { registerAdmin } from './world.js';

/** A phone number no other test of this run uses. */
export function newNumber(): string {
  return `49${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(100)).padStart(2, '0')}`;
}

export interface LinkedTenant {
  admin: Account;
  /** The admin's socket, open since before the QR. */
  socket: RecordedSocket;
  /** The WhatsApp number the tenant linked. */
  number: string;
}

/** Seed flow 1: register, open the admin socket, init, scan the QR from the PNG with a phone, wait for connected. */
export async function linkTenant(base: string, simUrl: string, name: string): Promise<LinkedTenant> {
  const number = newNumber();
  await phone(simUrl, 'POST', '/phones', { number, name: `${name} Business` });
  const admin = await registerAdmin(base, name);
  const socket = await connectSocket(base, admin.accessToken);
  const init = await api(base, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
  if (init.status !== 200) throw new Error(`init answered ${init.status}: ${init.text}`);
  const qr = decodeQrDataUrl(await socket.next<string>('qr'));
  const link = await phone(simUrl, 'POST', `/phones/${number}/link`, { qr });
  if (link.status !== 200) throw new Error(`link answered ${link.status}`);
  await socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');
  return { admin, socket, number };
}

/** Creates contacts (phones) on the simulator; returns their numbers. */
export async function contacts(simUrl: string, n: number, label: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const number = newNumber();
    const res = await phone(simUrl, 'POST', '/phones', { number, name: `${label} ${i + 1}` });
    if (res.status !== 201 && res.status !== 200) throw new Error(`create phone answered ${res.status}`);
    out.push(number);
  }
  return out;
}

/** Runs `tasks` with at most `limit` in flight; resolves with their results in order. */
export async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
