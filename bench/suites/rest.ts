import { proc } from '../lib/build.js';
import { dropSchema, schemaName, waitForIdleDatabase, type Suite } from '../lib/context.js';
import { json, load, type LoadResult } from '../lib/http.js';
import { startProc } from '../lib/ipc.js';
import { ratio, type Row } from '../lib/report.js';
import { createEmployee, registerAdmin, startNodeProc } from '../lib/stack.js';
import { medianOf } from '../lib/stats.js';

/**
 * REST reads at 64 connections: the gateway (JWT check, permission filter, PostgreSQL with RLS) against
 * a bare Fastify handler returning the same JSON from memory, and against the seed's stack (Express +
 * jsonwebtoken + pg) running the same queries on the same tables.
 */

const CONNECTIONS = 64;
const CHATS = 60;
const ASSIGNED = 50;
const LONG_CHAT_MESSAGES = 100_000;

type ServerName = 'gateway' | 'bare' | 'seed';

export const restSuite: Suite = {
  name: 'rest',
  steps: (quick) => 3 + 2 * (quick ? 3 : 5),
  async run(ctx) {
    // Short loads, several of them: at ~12k req/s 1.5 s is 18k requests, plenty for a p99.
    const durationS = ctx.quick ? 1 : 4;
    const schema = schemaName('rest');
    ctx.defer(() => dropSchema(ctx.dbUrl, schema));
    ctx.step('rest: starting the gateway and seeding 100k messages');
    const node = await startNodeProc(ctx, { schema });
    ctx.defer(() => node.stop());
    const admin = await registerAdmin(node.info.url, 'Rest Admin');
    const employee = await createEmployee(node.info.url, admin);
    const seedStart = performance.now();
    const seeded = await node.request<{ longChatId: string }>('seedReads', {
      tenantId: admin.user.tenantId,
      employeeId: employee.user.id,
      chats: CHATS,
      assigned: ASSIGNED,
      longChatMessages: LONG_CHAT_MESSAGES,
    });
    ctx.note(`rest: seeded ${LONG_CHAT_MESSAGES.toLocaleString('en-US')} messages in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const endpoints = [
      { name: 'GET /api/chats', path: '/api/chats' },
      { name: 'GET /api/chats/:id/messages', path: `/api/chats/${encodeURIComponent(seeded.longChatId)}/messages` },
    ];

    ctx.step('rest: starting the baselines');
    const bare = await startProc<{ url: string }>(proc('fastify-bare'));
    ctx.defer(() => bare.stop());
    const seed = await startProc<{ url: string }>(proc('seed-stack'), {
      env: { BENCH_DB_URL: ctx.dbUrl, BENCH_SCHEMA: schema, BENCH_JWT_SECRET: ctx.jwtSecret },
    });
    ctx.defer(() => seed.stop());
    const urls: Record<ServerName, string> = { gateway: node.info.url, bare: bare.info.url, seed: seed.info.url };
    const shape: Record<string, string> = {};
    for (const e of endpoints) {
      const body = await json<unknown>(`${node.info.url}${e.path}`, { token: employee.accessToken });
      await bare.request('set', { path: e.path, body: JSON.stringify(body) });
      shape[e.name] = describe(body);
      // Same answer size from all three, or the comparison means nothing.
      for (const s of ['bare', 'seed'] as const) {
        const other = describe(await json<unknown>(`${urls[s]}${e.path}`, { token: employee.accessToken }));
        if (other !== shape[e.name]) throw new Error(`${s} answers ${other} for ${e.name}, the gateway ${shape[e.name]}`);
      }
    }

    ctx.step('rest: warm-up');
    const headers = { authorization: `Bearer ${employee.accessToken}` };
    for (const e of endpoints) {
      for (const s of Object.keys(urls) as ServerName[]) {
        await load({ url: `${urls[s]}${e.path}`, connections: CONNECTIONS, durationS: ctx.quick ? 0.5 : 1, headers });
        await waitForIdleDatabase(ctx.dbUrl);
      }
    }

    const results: Record<string, Record<ServerName, LoadResult[]>> = {};
    for (const e of endpoints) {
      const per: Record<ServerName, LoadResult[]> = { gateway: [], bare: [], seed: [] };
      results[e.name] = per;
      for (let run = 0; run < ctx.runs; run++) {
        ctx.step(`rest: ${e.name} run ${run + 1}/${ctx.runs}`);
        // Interleaved, so a noisy moment on the shared machine hits every server alike.
        for (const s of ['gateway', 'bare', 'seed'] as const) {
          const r = await load({ url: `${urls[s]}${e.path}`, connections: CONNECTIONS, durationS, headers });
          await waitForIdleDatabase(ctx.dbUrl);
          if (r.non2xx > 0 || r.errors > 0) throw new Error(`${s} ${e.name}: ${r.non2xx} non-2xx, ${r.errors} errors (by status: ${JSON.stringify(r.statusCodes)})`);
          per[s].push(r);
        }
      }
    }
    ctx.raw.rest = { connections: CONNECTIONS, durationS, shape, results };
    return endpoints.flatMap((e) => rows(e.name, results[e.name] as Record<ServerName, LoadResult[]>, shape[e.name] ?? ''));
  },
};

function describe(body: unknown): string {
  const list = Array.isArray(body) ? body : (body as { messages?: unknown[] }).messages;
  return `${Array.isArray(list) ? list.length : '?'} items`;
}

function rows(name: string, per: Record<ServerName, LoadResult[]>, shape: string): Row[] {
  const rps = (s: ServerName) => medianOf(per[s], (r) => r.rps);
  const p99 = (s: ServerName) => medianOf(per[s], (r) => r.p99);
  const isList = name === 'GET /api/chats';
  const vsBare = ratio(rps('gateway'), rps('bare'));
  const vsSeed = ratio(rps('gateway'), rps('seed'));
  return [
    {
      suite: 'rest',
      figure: `${name} (${shape}) req/s vs bare Fastify`,
      value: rps('gateway'),
      unit: 'req/s',
      baseline: { name: 'bare Fastify, same JSON', value: rps('bare') },
      ratio: vsBare,
      ...(isList ? { target: '>= 0.5x', met: vsBare !== null && vsBare >= 0.5 } : {}),
    },
    {
      suite: 'rest',
      figure: `${name} req/s vs seed stack`,
      value: rps('gateway'),
      unit: 'req/s',
      baseline: { name: 'Express + jsonwebtoken + pg', value: rps('seed') },
      ratio: vsSeed,
      ...(isList ? { target: '>= 5x', met: vsSeed !== null && vsSeed >= 5 } : {}),
    },
    {
      suite: 'rest',
      figure: `${name} p99 latency at 64 connections`,
      value: p99('gateway'),
      unit: 'ms',
      baseline: { name: 'seed stack', value: p99('seed') },
      ratio: ratio(p99('gateway'), p99('seed')),
      note: `bare Fastify p99 ${p99('bare').toFixed(1)} ms`,
    },
  ];
}
