import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/client.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

/** The API document of a whole node (with the session routes), as Swagger UI at /api/docs reads it. */
const SESSION_ROUTES: [string, string][] = [
  ['post', '/api/whatsapp/init'],
  ['post', '/api/whatsapp/logout'],
  ['get', '/api/whatsapp/status'],
  ['post', '/api/chats/{chatId}/messages'],
  ['get', '/api/media/profile-photo/{chatId}'],
];

describe('the API document of a running node', () => {
  let stack: TestStack;
  let doc: { paths: Record<string, Record<string, { security?: unknown[]; requestBody?: { content: Record<string, unknown> } }>> };
  beforeAll(async () => {
    stack = await startTestStack();
    doc = (await api<typeof doc>(stack.url, 'GET', '/api/docs/json')).body;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is a valid OpenAPI document', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('lists the session routes, each behind bearer auth', () => {
    for (const [method, path] of SESSION_ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(op?.security).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('documents both ways to send: JSON and a multipart upload', () => {
    const content = doc.paths['/api/chats/{chatId}/messages']?.post?.requestBody?.content ?? {};
    expect(Object.keys(content).sort()).toEqual(['application/json', 'multipart/form-data']);
  });

  it('serves Swagger UI at /api/docs', async () => {
    const res = await fetch(`${stack.url}/api/docs/`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('swagger');
  });
});
