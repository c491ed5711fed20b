import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../src/simulator/server.js';
import { createPhone, freshNumber, linkRaw, phoneApi, startSimulator, type PhoneApi } from './harness.js';

let sim: Simulator;
let api: PhoneApi;

beforeAll(async () => {
  sim = await startSimulator();
  api = phoneApi(sim.url);
});
afterAll(async () => {
  await sim.close();
});

function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ statusCode: status, code, error: expect.any(String), message: expect.any(String) });
}

describe('simulator phone API', () => {
  it('creates an account once and answers the same account when asked again', async () => {
    const number = freshNumber();
    const first = await api.post('/phones', { number, name: 'Ann' });
    const again = await api.post('/phones', { number, name: 'Someone else' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ number, name: 'Ann', hasPhoto: false, linked: false, online: false, pendingDeliveries: 0 });
  });

  it('rejects numbers that are not digits and incomplete bodies with 400', async () => {
    expectError(await api.post('/phones', { number: '+49 170 1234', name: 'Ann' }), 400, 'WA_VALIDATION');
    expectError(await api.post('/phones', { number: '4917012345' }), 400, 'WA_VALIDATION');
    expectError(await api.post('/phones', '{not json'), 400, 'WA_VALIDATION');
    expectError(await api.get('/phones/12ab34'), 400, 'WA_VALIDATION');
  });

  it('answers 404 for unknown phones, unknown recipients and unknown routes', async () => {
    const ann = await createPhone(api, 'Ann');
    expectError(await api.get(`/phones/${freshNumber()}`), 404, 'WA_NOT_FOUND');
    expectError(await api.post(`/phones/${ann}/messages`, { to: freshNumber(), body: 'hi' }), 404, 'WA_NOT_FOUND');
    expectError(await api.post(`/phones/${freshNumber()}/messages`, { to: ann, body: 'hi' }), 404, 'WA_NOT_FOUND');
    expectError(await api.get('/no/such/route'), 404, 'WA_NOT_FOUND');
  });

  it('refuses messages without content, to oneself, and with a malformed chat id or photo', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    expectError(await api.post(`/phones/${ann}/messages`, { to: bob }), 400, 'WA_VALIDATION');
    expectError(await api.post(`/phones/${ann}/messages`, { to: ann, body: 'me' }), 400, 'WA_VALIDATION');
    expectError(await api.post(`/phones/${ann}/messages`, { to: bob, body: 'x', media: { mimetype: 'image/png' } }), 400, 'WA_VALIDATION');
    expectError(await api.post(`/phones/${ann}/read`, { chatId: bob }), 400, 'WA_VALIDATION');
    expectError(await api.put(`/phones/${ann}/photo`, { mimetype: 'text/plain', dataBase64: 'AAAA' }), 400, 'WA_VALIDATION');
    expectError(await api.put(`/phones/${ann}/photo`, { mimetype: 'image/png', dataBase64: 'not base64!' }), 400, 'WA_VALIDATION');
    const inbox = await api.get(`/phones/${bob}/messages`);
    expect(inbox.body).toEqual({ messages: [] });
  });

  it('answers 404 for a QR code nobody issued and 409 for unlinking a phone with no device', async () => {
    const ann = await createPhone(api, 'Ann');
    expectError(await api.post(`/phones/${ann}/link`, { qr: '2@made-up' }), 404, 'WA_NOT_FOUND');
    expectError(await api.post(`/phones/${ann}/unlink`), 409, 'WA_CONFLICT');
    expectError(await api.post(`/testing/phones/${ann}/drop`), 409, 'WA_CONFLICT');
  });

  it('delivers phone-to-phone messages with acks that reach read when the recipient reads the chat', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const sent = await api.post(`/phones/${ann}/messages`, { to: bob, body: 'hello Bob' });
    expect(sent.status).toBe(201);
    const { id } = sent.body as { id: string };

    const inbox = await api.get(`/phones/${bob}/messages`);
    expect(inbox.body).toEqual({
      messages: [expect.objectContaining({ id, from: ann, to: bob, chatId: `${ann}@c.us`, body: 'hello Bob', ack: 2, type: 'chat' })],
    });
    const read = await api.post(`/phones/${bob}/read`, { chatId: `${ann}@c.us` });
    expect(read.body).toEqual({ read: 1 });
    const outbox = await api.get(`/phones/${ann}/messages?box=sent`);
    expect(outbox.body).toEqual({ messages: [expect.objectContaining({ id, chatId: `${bob}@c.us`, ack: 3 })] });
    expect(sim.stats().sent).toBeGreaterThanOrEqual(1);
  });

  it('sends many messages in one load-generation request, each as by its phone, and says which were refused', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const nobody = freshNumber();
    const res = await api.post('/testing/messages', {
      messages: [
        { from: ann, to: bob, body: 'one' },
        { from: nobody, to: bob, body: 'from nobody' },
        { from: bob, to: ann, body: 'two' },
        { from: ann, to: bob, body: '' },
      ],
    });
    expect(res.status).toBe(200);
    const { results } = res.body as { results: ({ id: string } | { code: string })[] };
    expect(results).toEqual([{ id: expect.any(String) }, expect.objectContaining({ code: 'WA_NOT_FOUND' }), { id: expect.any(String) }, expect.objectContaining({ code: 'WA_VALIDATION' })]);
    const inbox = (await api.get(`/phones/${bob}/messages`)).body as { messages: { id: string; body: string }[] };
    expect(inbox.messages.map((m) => [m.id, m.body])).toEqual([[(results[0] as { id: string }).id, 'one']]);
    expect(((await api.get(`/phones/${ann}/messages`)).body as { messages: { body: string }[] }).messages.map((m) => m.body)).toEqual(['two']);
    expectError(await api.post('/testing/messages', { messages: [] }), 400, 'WA_VALIDATION');
    expectError(await api.post('/testing/messages', { messages: [{ from: ann, to: 'x', body: 'hi' }] }), 400, 'WA_VALIDATION');
  });

  it('reports a linked and online phone, and unlinks it from the phone', async () => {
    const ann = await createPhone(api, 'Ann');
    const { session } = await linkRaw(sim, api, ann);
    expect((await api.get(`/phones/${ann}`)).body).toMatchObject({ linked: true, online: true });
    expect((await api.post(`/phones/${ann}/unlink`)).status).toBe(204);
    expect(await session.frames.take('logged_out')).toEqual({ type: 'logged_out', reason: 'phone_unlinked' });
    expect(await session.closed).toBe(4003);
    expect((await api.get(`/phones/${ann}`)).body).toMatchObject({ linked: false, online: false });
  });
});
