import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { fetchDocument, fillPath, operations, queryString, type JsonSchema, type Operation } from './support/openapi.js';
import { errorBodyProblems, leaks, missingSecurityHeaders } from './support/requests.js';
import { openStoreProbe, type StoreProbe } from './support/snapshot.js';
import { algNoneToken, badSignatureToken, expiredToken, tamperedClaimsToken } from './support/tokens.js';
import { buildWorld, type World } from './support/world.js';

/**
 * The attack matrix: every operation of the API's own OpenAPI document, aimed at a victim tenant with
 * every kind of wrong credential. Each answer must be the expected refusal, carry none of the victim's
 * data, and leave every stored row of the victim exactly as it was. Routes come from the document, and
 * their ids are filled with the victim's real ones, so a route added later is attacked too; one whose
 * path parameter this file cannot aim fails loudly below.
 */

type Expectation = 'unauthenticated' | 'other-tenant' | 'unassigned-employee';

interface AttackCase {
  name: string;
  expectation: Expectation;
  authorization: () => string | undefined;
}

/**
 * The victim's id each named input aims at (an `id` means what its route's resource is). A new name
 * makes the matrix fail until it is added here.
 */
const VICTIM_REFS: Record<string, (w: World, op: Operation) => string> = {
  chatId: (w) => w.victim.assignedChat,
  messageId: (w) => w.victim.mediaMessageId,
  id: (w, op) => {
    if (op.path.startsWith('/api/webhooks/')) return w.victim.webhookId;
    if (op.path.startsWith('/api/auth/employees/')) return w.victim.assigned.id;
    throw new Error(`the attack matrix does not know what {id} of ${op.name} names: add it to VICTIM_REFS`);
  },
  employeeId: (w) => w.victim.assigned.id,
};

/** Inputs that name nothing of a tenant, filled the way an attacker would guess them. */
const GUESSES: Record<string, (w: World) => unknown> = {
  email: (w) => w.victim.admin.email,
  password: () => 'not-the-password',
  name: () => 'Mallory',
  refreshToken: () => 'a-guessed-refresh-token',
  body: () => 'attack text',
  // The demo's simulated phones (sandbox engine only).
  number: () => '4915550000001',
  to: () => '4915550000002',
  qr: () => 'not-a-qr-code',
  // Linking by pairing code instead of a QR: the phone number to link.
  phone: () => '4915550000003',
  // Webhooks.
  url: () => 'https://attacker.example/hook',
  events: () => ['message'],
  enabled: () => true,
};

/** Operations an employee may call without any chat: their answers are filtered to its own chats. */
const EMPLOYEE_OPEN = new Set(['GET /api/chats', 'GET /api/events']);

let stack: TestStack;
let world: World;
let probe: StoreProbe;
let ops: Operation[];
let baseline: Record<string, string>;
const cases: AttackCase[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  world = await buildWorld(stack.url, stack.node.store);
  probe = openStoreProbe(TEST_DATABASE_URL, stack.schema);
  ops = operations(await fetchDocument((url) => stack.node.app.inject({ method: 'GET', url })));
  const { victim } = world;
  const issuer = stack.config.JWT_ISSUER;
  const victimAdmin = { userId: victim.admin.id, tenantId: victim.tenantId, role: 'admin' as const };
  const expired = await expiredToken(stack.config.JWT_SECRET, issuer, victimAdmin);
  const badSig = await badSignatureToken(victim.admin.accessToken, issuer, victimAdmin);
  const bearer = (token: string) => () => `Bearer ${token}`;
  cases.push(
    { name: 'no token', expectation: 'unauthenticated', authorization: () => undefined },
    { name: 'malformed token', expectation: 'unauthenticated', authorization: () => 'Bearer eyJhbGciOiJIUzI1NiJ9.not-json.x' },
    { name: 'token of another scheme', expectation: 'unauthenticated', authorization: () => `Basic ${Buffer.from('admin:admin').toString('base64')}` },
    { name: 'bad signature', expectation: 'unauthenticated', authorization: bearer(badSig) },
    { name: 'claims edited to admin', expectation: 'unauthenticated', authorization: bearer(tamperedClaimsToken(victim.unassigned.accessToken)) },
    { name: 'expired token', expectation: 'unauthenticated', authorization: bearer(expired) },
    { name: 'alg none', expectation: 'unauthenticated', authorization: bearer(algNoneToken(victim.admin.accessToken)) },
    { name: 'token of a deleted employee', expectation: 'unauthenticated', authorization: bearer(victim.deleted.accessToken) },
    { name: 'refresh token as access token', expectation: 'unauthenticated', authorization: bearer(victim.admin.refreshToken) },
    { name: 'admin of another tenant', expectation: 'other-tenant', authorization: bearer(world.attacker.accessToken) },
    { name: 'employee without the chat', expectation: 'unassigned-employee', authorization: bearer(victim.unassigned.accessToken) },
  );
  baseline = await probe.tenantRows(victim.tenantId);
});

afterAll(async () => {
  await probe?.close();
  await stack?.close();
});

/** A JSON body for the schema: victim ids where named, guesses elsewhere. */
function bodyFor(schema: JsonSchema, op: Operation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of schema.required ?? []) {
    const ref = VICTIM_REFS[key];
    const guess = GUESSES[key];
    if (ref === undefined && guess === undefined) throw new Error(`the attack matrix cannot fill body field "${key}" of ${op.name}: add it to VICTIM_REFS or GUESSES`);
    out[key] = ref === undefined ? guess?.(world) : ref(world, op);
  }
  // A body with nothing required (a patch) still has to say something to get past validation.
  if (Object.keys(out).length === 0) {
    for (const key of Object.keys(schema.properties ?? {})) {
      const guess = GUESSES[key];
      if (guess !== undefined) out[key] = guess(world);
    }
  }
  return out;
}

interface Aimed {
  url: string;
  payload: Record<string, unknown> | undefined;
  /** True when the request names something of the victim (an id, or the admin's email). */
  aimed: boolean;
}

function aim(op: Operation): Aimed {
  const path: Record<string, string> = {};
  const query: Record<string, string | undefined> = {};
  let aimed = false;
  for (const p of op.params) {
    const ref = VICTIM_REFS[p.name];
    if (p.in === 'path') {
      const guess = GUESSES[p.name];
      if (ref === undefined && guess === undefined) {
        throw new Error(`the attack matrix cannot aim path parameter "${p.name}" of ${op.name}: add it to VICTIM_REFS or GUESSES`);
      }
      path[p.name] = ref === undefined ? String(guess?.(world)) : ref(world, op);
      aimed ||= ref !== undefined;
    } else if (p.in === 'query' && ref !== undefined) {
      query[p.name] = ref(world, op);
      aimed = true;
    }
  }
  const payload = op.jsonBody === undefined ? undefined : bodyFor(op.jsonBody, op);
  if (payload !== undefined && Object.keys(payload).some((k) => VICTIM_REFS[k] !== undefined || k === 'email')) aimed = true;
  return { url: fillPath(op.path, path) + queryString(query), payload, aimed };
}

/** The answers a case may get from an operation. */
function expectedStatuses(op: Operation, attack: AttackCase, aimed: boolean): number[] {
  const documented = (statuses: number[]) => statuses.filter((s) => op.statuses.includes(s));
  if (!op.protected) {
    // Public operations ignore the bearer header: they may answer anything they document but a 5xx.
    return op.statuses.filter((s) => s < 500);
  }
  switch (attack.expectation) {
    case 'unauthenticated':
      return [401];
    case 'other-tenant':
      // Another tenant's ids do not exist for this caller. An admin may write to any chat number through
      // its own session, which is not running: 409, and nothing reached the victim.
      return aimed ? documented([404, 409]) : op.statuses.filter((s) => s < 500);
    case 'unassigned-employee':
      return !aimed && EMPLOYEE_OPEN.has(op.name) ? [200] : [403];
  }
}

function describeRequest(op: Operation, attack: AttackCase, a: Aimed): string {
  return `${attack.name} -> ${op.method} ${a.url} ${JSON.stringify(a.payload ?? null)}`;
}

describe('attack matrix over every documented operation', () => {
  it('covers every operation of the document, with the victim\'s real ids', () => {
    expect(ops.length).toBeGreaterThanOrEqual(19);
    expect(ops.filter((o) => o.protected).length).toBeGreaterThanOrEqual(13);
    for (const op of ops) expect(() => aim(op), op.name).not.toThrow();
  });

  it('refuses every credential that is not the victim\'s own, leaks nothing and changes nothing', async () => {
    const failures: string[] = [];
    let tried = 0;
    for (const op of ops) {
      for (const attack of cases) {
        const a = aim(op);
        const authorization = attack.authorization();
        const res: LightMyRequestResponse = await stack.node.app.inject({
          method: op.method,
          url: a.url,
          headers: authorization === undefined ? {} : { authorization },
          ...(a.payload === undefined ? {} : { payload: a.payload }),
        });
        tried++;
        const what = describeRequest(op, attack, a);
        const allowed = expectedStatuses(op, attack, a.aimed);
        if (!allowed.includes(res.statusCode)) failures.push(`${what}: ${res.statusCode} not in [${allowed.join(', ')}]: ${res.body.slice(0, 300)}`);
        if (res.statusCode >= 400) {
          for (const p of errorBodyProblems(res)) failures.push(`${what}: error body ${p}`);
          if (op.protected && res.statusCode === 401 && res.headers['www-authenticate'] !== 'Bearer') failures.push(`${what}: 401 without WWW-Authenticate: Bearer`);
        }
        const ownIdentity = attack.expectation === 'unassigned-employee' ? [world.victim.unassigned.id, world.victim.tenantId] : [];
        const leaked = leaks(res, world.victim.secrets.filter((s) => !ownIdentity.includes(s)), `${a.url} ${JSON.stringify(a.payload ?? {})} ${authorization ?? ''}`);
        if (leaked.length > 0) failures.push(`${what}: leaked ${leaked.join(', ')}`);
        const missing = missingSecurityHeaders(res);
        if (missing.length > 0) failures.push(`${what}: missing security headers ${missing.join(', ')}`);
        const after = await probe.tenantRows(world.victim.tenantId);
        for (const [table, rows] of Object.entries(after)) {
          if (rows !== baseline[table]) {
            failures.push(`${what}: changed the victim's ${table}`);
            baseline[table] = rows;
          }
        }
      }
    }
    // The figure the trust report quotes.
    console.info(`attack matrix: ${ops.length} operations x ${cases.length} cases = ${tried} requests`);
    expect(tried).toBe(ops.length * cases.length);
    expect(failures).toEqual([]);
  });

  it('still serves the victim itself after the attacks', async () => {
    const { victim } = world;
    const chats = await stack.node.app.inject({ method: 'GET', url: '/api/chats', headers: { authorization: `Bearer ${victim.assigned.accessToken}` } });
    expect(chats.statusCode).toBe(200);
    expect(JSON.parse(chats.body)).toEqual([expect.objectContaining({ id: victim.assignedChat })]);
    const media = await stack.node.app.inject({ method: 'GET', url: `/api/media/${victim.mediaMessageId}`, headers: { authorization: `Bearer ${victim.admin.accessToken}` } });
    expect(media.statusCode).toBe(200);
    expect(media.body).toContain('file bytes');
  });
});
