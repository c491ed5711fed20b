import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chat } from '../../src/domain/types.js';
import { DEMO_BUSINESS_NUMBER } from '../../src/simulator/demo-seed.js';
import { api, login, phone, register, uniqueEmail } from '../helpers/client.js';

/**
 * `npm run demo` as a newcomer runs it: one process with the simulator, the server and the embedded
 * database (PGlite in a fresh DATA_DIR), no DATABASE_URL, no Redis. The smoke walks the seed's flows.
 */
describe('the demo on the embedded database', () => {
  let child: ChildProcess;
  let dataDir: string;
  let base = '';
  let simUrl = '';
  let output = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wa-demo-'));
    const env: Record<string, string> = { ...(process.env as Record<string, string>), DATA_DIR: dataDir, PORT: '0', SIM_PORT: '0' };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.JWT_SECRET;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/demo.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 90_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const docs = /API docs\s+(http:\/\/\S+)\/api\/docs/.exec(output);
        const sim = /Simulator\s+(http:\/\/\S+)\s/.exec(output);
        if (docs?.[1] && sim?.[1]) {
          clearTimeout(timer);
          base = docs[1];
          simUrl = sim[1];
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers /healthz and /readyz and serves the API docs', async () => {
    expect((await api(base, 'GET', '/healthz')).status).toBe(200);
    expect((await api(base, 'GET', '/readyz')).status).toBe(200);
    const docs = await fetch(`${base}/api/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('registers, links the demo phone by QR, creates a station, assigns a chat and lists it', async () => {
    const admin = await register(base, 'Demo');
    expect((await api(base, 'POST', '/api/whatsapp/init', { token: admin.accessToken })).status).toBe(200);
    let qr: { status: number; body: { qr: string } } = { status: 0, body: { qr: '' } };
    await expect.poll(async () => (qr = await api<{ qr: string }>(base, 'GET', '/api/whatsapp/qr', { token: admin.accessToken })).status, { timeout: 30_000 }).toBe(200);
    expect((await phone(simUrl, 'POST', `/phones/${DEMO_BUSINESS_NUMBER}/link`, { qr: qr.body.qr })).status).toBe(200);
    await expect
      .poll(async () => (await api<Chat[]>(base, 'GET', '/api/chats', { token: admin.accessToken })).body.length, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(3);
    const chats = (await api<Chat[]>(base, 'GET', '/api/chats', { token: admin.accessToken })).body;

    const email = uniqueEmail('station');
    const station = await api<{ id: string }>(base, 'POST', '/api/auth/create-station', { token: admin.accessToken, body: { name: 'Desk', email, password: 'desk password' } });
    expect(station.status).toBe(201);
    const chatId = chats[0]!.id;
    expect((await api(base, 'POST', '/api/permissions/assign', { token: admin.accessToken, body: { employeeId: station.body.id, chatId } })).status).toBe(204);
    const employee = await login(base, email, 'desk password');
    const visible = await api<Chat[]>(base, 'GET', '/api/chats', { token: employee.accessToken });
    expect(visible.body.map((c) => c.id)).toEqual([chatId]);
  });
});
