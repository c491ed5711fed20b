import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, json, type TestApp } from './helper.js';

interface Operation {
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }>; schemas: Record<string, unknown> };
}

const PUBLIC: [string, string][] = [
  ['post', '/api/auth/register'],
  ['post', '/api/auth/login'],
  ['post', '/api/auth/refresh'],
  ['post', '/api/auth/logout'],
  ['get', '/healthz'],
  ['get', '/readyz'],
];
const PROTECTED: [string, string][] = [
  ['post', '/api/auth/create-station'],
  ['get', '/api/auth/employees'],
  ['delete', '/api/auth/employees/{id}'],
  ['post', '/api/permissions/assign'],
  ['post', '/api/permissions/revoke'],
  ['get', '/api/permissions'],
  ['get', '/api/chats'],
  ['get', '/api/chats/{chatId}/messages'],
  ['get', '/api/media/{messageId}'],
];

let t: TestApp;
let doc: Document;
beforeAll(async () => {
  t = await createTestApp();
  const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
  expect(res.statusCode).toBe(200);
  doc = json<Document>(res);
});
afterAll(async () => {
  await t?.close();
});

describe('OpenAPI document at /api/docs/json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('lists every route, each with a tag and a summary', () => {
    for (const [method, path] of [...PUBLIC, ...PROTECTED]) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
      expect(op?.summary, `${method} ${path}`).toEqual(expect.any(String));
    }
  });

  it('documents the shared error body on every route, and 401 on every protected one', () => {
    expect(doc.components.schemas).toHaveProperty('ErrorBody');
    for (const [method, path] of [...PUBLIC, ...PROTECTED]) {
      expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}), `${method} ${path}`).toContain('500');
    }
    for (const [method, path] of PROTECTED) {
      expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}), `${method} ${path}`).toContain('401');
    }
  });

  it('declares a bearer scheme and requires it exactly on the protected routes, so Authorize works', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [method, path] of PROTECTED) {
      expect(doc.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
    }
    for (const [method, path] of PUBLIC) {
      expect(doc.paths[path]?.[method]?.security, `${method} ${path}`).toBeUndefined();
    }
  });
});

describe('Swagger UI at /api/docs', () => {
  it('serves the UI page and its scripts under a CSP that allows them', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    // The page only loads same-origin script files (an inline script would need 'unsafe-inline').
    expect(page.body).not.toMatch(/<script>(?!\s*<\/script>)/);
    const scripts = [...page.body.matchAll(/<script src="\.\/([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toContain('static/swagger-initializer.js');
    for (const script of scripts) {
      const res = await t.app.inject({ method: 'GET', url: `/api/docs/${script ?? ''}` });
      expect(res.statusCode, script).toBe(200);
    }
    const initializer = await t.app.inject({ method: 'GET', url: '/api/docs/static/swagger-initializer.js' });
    expect(initializer.body).toContain("resolveUrl('./json')");
    expect(initializer.body).toContain('"persistAuthorization":true');
  });
});
