import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phone, register } from '../helpers/client.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { launchBrowser } from './console/harness.js';

/** The seed-style test client at /demo.html, in a real Chromium: token, socket, init, QR, linked. */
describe('the test client page', () => {
  let stack: TestStack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startTestStack();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('connects with a token, shows the QR and its text, and turns connected once the phone scans it', async () => {
    const number = `4950${String(Date.now() % 100_000_000).padStart(8, '0')}`;
    await phone(stack.simUrl, 'POST', '/phones', { number, name: 'Page Shop' });
    const admin = await register(stack.url, 'Paula');
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`${stack.url}/demo.html`);
    await page.getByLabel('Access token').fill(admin.accessToken);
    await page.getByRole('button', { name: 'Connect socket' }).click();
    await page.getByText('connected', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Init WhatsApp session' }).click();
    await page.getByRole('img', { name: 'QR code to link WhatsApp' }).waitFor();
    const qrText = page.locator('#qr-text');
    await expect.poll(async () => (await qrText.textContent()) ?? '', { timeout: 15_000 }).not.toBe('');
    const qr = (await qrText.textContent()) ?? '';
    expect((await phone(stack.simUrl, 'POST', `/phones/${number}/link`, { qr })).status).toBe(200);
    await page.locator('#session-state', { hasText: 'connected' }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });
});
