import { PNG } from 'pngjs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/domain/log.js';
import { startNode, type RunningNode } from '../../../src/node.js';
import { createSimulator, type Simulator } from '../../../src/simulator/server.js';
import { api } from '../../helpers/client.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../../helpers/db.js';
import { testNodeEnv } from '../../helpers/stack.js';
import { buildConsole, collectErrors, DESKTOP, launchBrowser, PHONE, screenshot, unlabelledControls } from './harness.js';

/**
 * Issue 9's whole loop in Chromium, on the whole product: one node (sandbox engine, worker actors, real
 * PostgreSQL) serving the console it was built with, and the WhatsApp simulator. Admin A signs up, links
 * through the console's simulated-phone panel, answers a chat, creates an employee and gives it a chat;
 * the employee (a phone-sized second context) sees only that chat, receives live, replies, and loses the
 * chat when it is revoked; admin B (a third context) sees none of it. Tests run in order.
 */

const BUSINESS = '4915550000';
const ALICE = '4915550101';
const BOB = '4915550102';
const ALICE_CHAT = `${ALICE}@c.us`;
const BOB_CHAT = `${BOB}@c.us`;
const stamp = Date.now().toString(36);
const ADMIN_A = { name: 'Ada Admin', email: `ada-${stamp}@example.test`, password: 'correct horse battery' };
const ADMIN_B = { name: 'Ben Boss', email: `ben-${stamp}@example.test`, password: 'another horse battery' };
const EMPLOYEE = { name: 'Eve Employee', email: `eve-${stamp}@example.test`, password: 'employee-pass-1' };

let sim: Simulator;
let node: RunningNode;
let schema: string;
let removeBuild: () => Promise<void>;
let browser: Browser;
const contexts: BrowserContext[] = [];
const errorLists: string[][] = [];
let adminA: Page;
let employee: Page;
let adminB: Page;

async function page(options: typeof DESKTOP | typeof PHONE): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  errorLists.push(collectErrors(context));
  return context.newPage();
}

beforeAll(async () => {
  const built = await buildConsole();
  removeBuild = built.remove;
  const log = createLogger({ level: 'silent' });
  sim = createSimulator({ port: 0, log });
  const simUrl = await sim.listen();
  schema = uniqueSchemaName('console');
  const config = loadConfig(testNodeEnv({ JWT_SECRET: 'console-full-flow-secret-0123456789abcdef', WA_ENGINE: 'sandbox', SIM_URL: simUrl }));
  node = await startNode({ config, log, schema, consoleDir: built.dir });
  browser = await launchBrowser();
  adminA = await page(DESKTOP);
  employee = await page(PHONE);
  adminB = await page(DESKTOP);
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  try {
    await node?.close();
    await sim?.close();
  } finally {
    if (schema !== undefined) {
      const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
      await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
      await sql.end();
    }
    await removeBuild?.();
  }
});

/** A call to the simulator's phone API from "outside" (the contacts' phones). */
async function phone(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await api(sim.url, method, path, body === undefined ? {} : { body });
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  return res.body;
}

async function inbox(number: string): Promise<{ body: string; media: unknown }[]> {
  const answer = (await phone('GET', `/phones/${number}/messages?box=inbox`)) as { messages: { body: string; media: unknown }[] };
  return answer.messages;
}

function pngBase64(): string {
  const png = new PNG({ width: 40, height: 24 });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([200, 60, 0, 255], i);
  return PNG.sync.write(png).toString('base64');
}

async function signUp(p: Page, who: typeof ADMIN_A): Promise<void> {
  await p.goto(`${node.url}/signup`);
  await p.getByLabel('Your name').fill(who.name);
  await p.getByLabel('Email').fill(who.email);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Create account' }).click();
  await p.waitForURL('**/chats');
}

function chatItem(p: Page, chatId: string): Locator {
  return p.locator(`.chat-item[data-chat-id="${chatId}"]`);
}

describe('the console, end to end', { timeout: 90_000 }, () => {
  it('lets an admin sign up and link WhatsApp by scanning the live QR with a simulated phone', async () => {
    // Contacts write before the account is linked: the history must show up after linking.
    for (const [number, name] of [[BUSINESS, 'Ada\'s shop'], [ALICE, 'Alice'], [BOB, 'Bob']] as const) await phone('POST', '/phones', { number, name });
    await phone('POST', `/phones/${ALICE}/messages`, { to: BUSINESS, body: 'Hi, is my order ready?' });
    await phone('POST', `/phones/${BOB}/messages`, { to: BUSINESS, body: 'Please send the invoice' });

    await signUp(adminA, ADMIN_A);
    await adminA.getByRole('link', { name: 'WhatsApp' }).click();
    await adminA.getByRole('button', { name: 'Link WhatsApp' }).click();
    const qr = adminA.getByTestId('wa-qr');
    await qr.waitFor();
    await expectText(adminA.getByTestId('wa-status'), 'Waiting for a scan');
    expect(await unlabelledControls(adminA)).toEqual([]);
    await screenshot(adminA, '10-whatsapp-qr');

    await adminA.getByLabel('Your business phone number').fill(BUSINESS);
    await adminA.getByRole('button', { name: 'Scan the QR with this phone' }).click();
    await expectText(adminA.getByTestId('wa-status'), 'Connected');
    expect(await qr.count()).toBe(0);
    await screenshot(adminA, '11-whatsapp-connected');
  });

  it('shows the admin its chats live, with the messages sent before linking and unread counts', async () => {
    await adminA.getByRole('link', { name: 'Chats' }).click();
    await chatItem(adminA, ALICE_CHAT).waitFor();
    await chatItem(adminA, BOB_CHAT).waitFor();
    await expectText(chatItem(adminA, ALICE_CHAT).locator('.chat-preview'), 'Hi, is my order ready?');
    await expectText(chatItem(adminA, BOB_CHAT).locator('.unread'), '1');

    // A new message moves its chat up, live.
    await phone('POST', `/phones/${BOB}/messages`, { to: BUSINESS, body: 'Any news?' });
    await expectText(chatItem(adminA, BOB_CHAT).locator('.chat-preview'), 'Any news?');
    await expectText(adminA.locator('.chat-item').first().locator('.chat-name'), 'Bob');
    await screenshot(adminA, '12-admin-chats');
  });

  it('lets the admin answer a chat, and shows delivery, read receipts and media both ways', async () => {
    await chatItem(adminA, ALICE_CHAT).click();
    const conversation = adminA.getByTestId('conversation');
    await conversation.locator('.msg').filter({ hasText: 'Hi, is my order ready?' }).waitFor();

    await adminA.getByLabel('Message', { exact: true }).fill('Yes, ready for pickup');
    await adminA.keyboard.press('Enter');
    const reply = conversation.locator('.msg.out').filter({ hasText: 'Yes, ready for pickup' });
    await reply.waitFor();
    await expect.poll(async () => (await inbox(ALICE)).map((m) => m.body)).toContain('Yes, ready for pickup');
    await expect.poll(() => reply.locator('[data-ack]').getAttribute('data-ack')).toBe('2');
    await phone('POST', `/phones/${ALICE}/read`, { chatId: `${BUSINESS}@c.us` });
    await expect.poll(() => reply.locator('[data-ack]').getAttribute('data-ack')).toBe('3');

    // A photo from the contact is previewed; a file from the admin reaches the contact.
    await phone('POST', `/phones/${ALICE}/messages`, { to: BUSINESS, body: 'My receipt', media: { mimetype: 'image/png', filename: 'receipt.png', dataBase64: pngBase64() } });
    const photo = conversation.locator('.msg.in img').last();
    await photo.waitFor();
    await expect.poll(() => photo.evaluate((img: { naturalWidth: number }) => img.naturalWidth)).toBe(40);

    await adminA.locator('.composer input[type=file]').setInputFiles({ name: 'price-list.txt', mimeType: 'text/plain', buffer: Buffer.from('Bread 2.50\n') });
    await adminA.getByText('Attached: price-list.txt').waitFor();
    await adminA.getByRole('button', { name: 'Send' }).click();
    await expect.poll(async () => (await inbox(ALICE)).filter((m) => m.media !== null).length).toBe(1);
    await screenshot(adminA, '13-admin-conversation');
  });

  it('lets the admin create an employee and give it one chat', async () => {
    await adminA.getByRole('link', { name: 'Employees' }).click();
    await adminA.getByLabel('Name', { exact: true }).fill(EMPLOYEE.name);
    await adminA.getByLabel('Email').fill(EMPLOYEE.email);
    await adminA.getByLabel('Password').fill(EMPLOYEE.password);
    await adminA.getByRole('button', { name: 'Add employee' }).click();
    await adminA.locator(`[data-employee-email="${EMPLOYEE.email}"]`).waitFor();

    await adminA.getByRole('link', { name: 'Chats' }).click();
    await chatItem(adminA, ALICE_CHAT).click();
    await adminA.getByRole('button', { name: 'Access' }).click();
    const box = adminA.getByTestId('chat-access').getByRole('checkbox', { name: new RegExp(EMPLOYEE.name) });
    await box.check();
    await expect.poll(() => box.isEnabled()).toBe(true);
    expect(await box.isChecked()).toBe(true);
    await screenshot(adminA, '14-chat-access');
  });

  it('shows the employee only its chat, live, and lets it reply', async () => {
    await employee.goto(node.url);
    await employee.getByLabel('Email').fill(EMPLOYEE.email);
    await employee.getByLabel('Password').fill(EMPLOYEE.password);
    await employee.getByRole('button', { name: 'Sign in' }).click();
    await chatItem(employee, ALICE_CHAT).waitFor();
    expect(await employee.locator('.chat-item').count()).toBe(1);
    await employee.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    await chatItem(employee, ALICE_CHAT).click();
    const conversation = employee.getByTestId('conversation');
    await conversation.locator('.msg').filter({ hasText: 'Yes, ready for pickup' }).waitFor();
    await phone('POST', `/phones/${ALICE}/messages`, { to: BUSINESS, body: 'Can I come at five?' });
    await conversation.locator('.msg').filter({ hasText: 'Can I come at five?' }).waitFor();
    // Messages of chats it was not given never reach it.
    await phone('POST', `/phones/${BOB}/messages`, { to: BUSINESS, body: 'Secret for the admin' });
    await expectText(chatItem(adminA, BOB_CHAT).locator('.chat-preview'), 'Secret for the admin');
    expect(await employee.locator('.chat-item').count()).toBe(1);
    expect(await employee.getByText('Secret for the admin').count()).toBe(0);

    await employee.getByLabel('Message', { exact: true }).fill('Yes, see you at five. Eve');
    await employee.getByRole('button', { name: 'Send' }).click();
    await expect.poll(async () => (await inbox(ALICE)).map((m) => m.body)).toContain('Yes, see you at five. Eve');
    await screenshot(employee, '15-employee-phone');
  });

  it('takes a revoked chat off the employee\'s screen at once, and stops its live messages', async () => {
    await adminA.getByRole('link', { name: 'Chats' }).click();
    await chatItem(adminA, ALICE_CHAT).click();
    await adminA.getByRole('button', { name: 'Access' }).click();
    const box = adminA.getByTestId('chat-access').getByRole('checkbox', { name: new RegExp(EMPLOYEE.name) });
    await box.uncheck();
    await expect.poll(() => box.isEnabled()).toBe(true);
    expect(await box.isChecked()).toBe(false);

    // Live, without a reload: the server's `chat_revoked` closes the open chat and empties the list.
    await employee.getByText('This chat is not available to you.').waitFor();
    await employee.waitForURL('**/chats');
    await expect.poll(() => employee.locator('.chat-item').count()).toBe(0);

    // The open socket left the chat's room: the admin sees the next message, the employee does not.
    await phone('POST', `/phones/${ALICE}/messages`, { to: BUSINESS, body: 'After the revoke' });
    await adminA.getByTestId('conversation').locator('.msg').filter({ hasText: 'After the revoke' }).waitFor();
    expect(await employee.locator('.msg').filter({ hasText: 'After the revoke' }).count()).toBe(0);
    await screenshot(employee, '16-employee-revoked');
  });

  it('shows a second admin none of the first tenant\'s chats, messages or events', async () => {
    await signUp(adminB, ADMIN_B);
    await adminB.getByRole('link', { name: 'Link your WhatsApp' }).waitFor();
    await phone('POST', `/phones/${ALICE}/messages`, { to: BUSINESS, body: 'Only for Ada' });
    await adminA.getByTestId('conversation').locator('.msg').filter({ hasText: 'Only for Ada' }).waitFor();
    expect(await adminB.locator('.chat-item').count()).toBe(0);

    // Even by address: the chat is refused and nothing of it is rendered.
    await adminB.goto(`${node.url}/chats/${encodeURIComponent(ALICE_CHAT)}`);
    await adminB.getByText('This chat is not available to you.').waitFor();
    expect(await adminB.getByText('Hi, is my order ready?').count()).toBe(0);
    expect(await adminB.locator('.chat-item').count()).toBe(0);
    await screenshot(adminB, '17-admin-b-empty');
  });

  it('lets the admin log out of WhatsApp and shows it live', async () => {
    await adminA.getByRole('link', { name: 'WhatsApp' }).click();
    await adminA.getByRole('button', { name: 'Log out of WhatsApp' }).click();
    await expectText(adminA.getByTestId('wa-status'), 'Logged out');
    await adminA.getByRole('button', { name: 'Link WhatsApp' }).waitFor();
    await expect.poll(() => sim.phone(BUSINESS)?.linked).toBe(false);
  });

  it('ran without page errors, CSP violations or unexpected failed requests', () => {
    expect(errorLists.flat()).toEqual([]);
  });
});

/** Waits until an element of `locator` shows `text` (a timeout fails the test). */
async function expectText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 15_000 });
  expect(await locator.filter({ hasText: text }).count()).toBeGreaterThan(0);
}
