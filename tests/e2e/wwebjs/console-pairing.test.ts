import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, collectErrors, launchBrowser, screenshot } from '../console/harness.js';
import { scriptedLibrary, type ScriptedLibrary } from '../../integration/wwebjs/scripted-client.js';
import { behaviorModule, scripted } from './fixtures/scripted-session-actor.js';
import { startWwebjsNode, type WwebjsNode } from './harness.js';

/**
 * The console's "link with your phone number" on the real engine's adapter, whatsapp-web.js scripted
 * (no WhatsApp here): the admin asks for a pairing code in the browser and sees the code the engine got.
 */
describe('linking by pairing code in the console', () => {
  let n: WwebjsNode;
  let lib: ScriptedLibrary;
  let browser: Browser;
  let built: { dir: string; remove(): Promise<void> };

  beforeAll(async () => {
    lib = await scriptedLibrary();
    scripted.library = lib.library;
    built = await buildConsole();
    n = await startWwebjsNode({
      env: { CHROMIUM_PATH: process.execPath },
      actors: { isolation: 'in-process', behaviorModule },
      consoleDir: built.dir,
    });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await n?.close();
    await built?.remove();
  });

  it('asks for a pairing code with the phone number and shows it', async () => {
    const context = await browser.newContext();
    const errors = collectErrors(context);
    const page = await context.newPage();
    await page.goto(`${n.url}/signup`);
    await page.getByLabel('Your name').fill('Pia');
    await page.getByLabel('Email').fill(`pia-${Date.now()}@example.test`);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/chats');
    await page.getByRole('link', { name: 'WhatsApp' }).first().click();
    await page.getByRole('button', { name: 'Link WhatsApp' }).click();

    const client = await lib.client(0);
    client.fire('qr', '2@ref-1,key,identity,secret,android');
    await page.getByLabel(/link with your phone number/i).fill('49 170 1234567');
    await page.getByRole('button', { name: 'Get a pairing code' }).click();
    const code = await page.locator('form.pairing-form strong.pairing').textContent();
    expect(code).toBe('ABCD1234');
    await screenshot(page, 'wwebjs-pairing-code');
    expect(errors).toEqual([]);
    await context.close();
  });
});
