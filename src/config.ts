import { join } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError, ErrorCodes } from './domain/errors.js';

/**
 * Every environment variable the service reads, with its type, default and meaning. This is the only
 * module that reads `process.env` (see `loadConfig`); workers get their slice of the result in their
 * start message. `npm run config:docs` prints the README table from this schema, and a test checks the
 * README against it.
 */
const Str = (description: string, opts: { default?: string; minLength?: number } = {}) =>
  Type.String({ description, ...opts });
const Int = (description: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  Type.Integer({ description, default: def, minimum: min, maximum: max });
const Bool = (description: string, def: boolean) => Type.Boolean({ description, default: def });
const OneOf = <T extends string>(description: string, values: readonly T[], def: T) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description, default: def },
  );

export const ConfigSchema = Type.Object({
  PORT: Int('HTTP port for the REST API, Swagger UI and Socket.IO.', 3000, 0, 65535),
  HOST: Str('Interface to listen on.', { default: '0.0.0.0' }),
  NODE_ID: Type.Optional(Str('Name of this node in leases and logs (default: hostname-pid).', { minLength: 1 })),
  DATABASE_URL: Type.Optional(
    Str('PostgreSQL URL. Unset: an embedded PostgreSQL (PGlite) with its data in DATA_DIR.', { minLength: 1 }),
  ),
  DATABASE_POOL_SIZE: Int('Connections in the PostgreSQL pool.', 10, 1, 200),
  CHAT_LIST_CACHE: Bool(
    'Keep chat lists (GET /api/chats) in memory, dropped at once when the database notifies a change (LISTEN/NOTIFY; one more connection). Off with the embedded database.',
    true,
  ),
  REDIS_URL: Type.Optional(Str('Redis URL. Unset: in-process leases, one node only.', { minLength: 1 })),
  REDIS_PREFIX: Str('Prefix of every Redis key this deployment uses.', { default: 'wa:' }),
  DATA_DIR: Str('Folder for the embedded database and media blobs.', { default: './data' }),
  JWT_SECRET: Str('HS256 secret for access tokens, at least 32 characters.', { minLength: 32 }),
  JWT_PREVIOUS_SECRETS: Str(
    'Comma-separated earlier secrets still accepted for verification while their tokens live (key rotation).',
    { default: '' },
  ),
  JWT_ISSUER: Str('`iss` of issued access tokens.', { default: 'wa-tenants' }),
  ACCESS_TOKEN_TTL_S: Int('Lifetime of an access token, in seconds.', 900, 30, 86_400),
  REFRESH_TOKEN_TTL_S: Int('Lifetime of a refresh token, in seconds.', 30 * 86_400, 60, 365 * 86_400),
  CORS_ORIGINS: Str('Allowed browser origins: `*`, or a comma-separated list of origins.', { default: '*' }),
  LOG_LEVEL: OneOf('pino log level.', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  LOGIN_RATE_LIMIT: Int('Login attempts allowed per account and per address in LOGIN_RATE_WINDOW_S.', 10, 1, 10_000),
  LOGIN_RATE_WINDOW_S: Int('Window of the login rate limit, in seconds.', 60, 1, 86_400),
  PASSWORD_HASH_THREADS: Int('Threads of the argon2id password hashing pool.', 2, 1, 64),
  BODY_LIMIT_BYTES: Int('Largest JSON request body accepted.', 1_048_576, 1024, 104_857_600),
  MEDIA_MAX_BYTES: Int('Largest media upload accepted.', 16 * 1_048_576, 1024, 104_857_600),
  REQUEST_TIMEOUT_MS: Int(
    'Longest time a client may take to send a whole request (node: headers and body, then 408; uws: until the answer, then the connection is closed). Keep it above ACTOR_CALL_TIMEOUT_MS.',
    120_000,
    1_000,
    3_600_000,
  ),
  WA_ENGINE: OneOf('WhatsApp engine: `wwebjs` (real, Chromium) or `sandbox` (the simulator).', ['wwebjs', 'sandbox'] as const, 'wwebjs'),
  SIM_URL: Str('Base URL of the WhatsApp network simulator the sandbox engine connects to.', {
    default: 'http://127.0.0.1:3100',
  }),
  SIM_PORT: Int('Port of the simulator when it runs (npm run simulator, demo).', 3100, 0, 65535),
  ISOLATION: OneOf(
    'Where each tenant actor runs: `worker` thread or child `process`. `auto`: `process` with the wwebjs engine (an actor owns a Chromium; a crash or an out-of-memory takes down only its own process), `worker` with sandbox.',
    ['auto', 'worker', 'process'] as const,
    'auto',
  ),
  ACTOR_MEMORY_MB: Type.Optional(
    Type.Integer({
      description:
        'Heap limit of one actor in MB (worker resourceLimits / --max-old-space-size). Unset: 64 with the sandbox engine, 256 with wwebjs (whatsapp-web.js, Puppeteer, history sync and media in transit; Chromium itself is outside this limit).',
      minimum: 16,
      maximum: 4096,
    }),
  ),
  WA_AUTH: OneOf(
    'Where the wwebjs engine keeps a linked session: `remote` (RemoteAuth: the browser profile zipped in PostgreSQL, any node restores it) or `local` (LocalAuth: the profile stays on this node\'s disk, one node with a volume).',
    ['remote', 'local'] as const,
    'remote',
  ),
  WWEBJS_DATA_DIR: Type.Optional(
    Str('Folder of the wwebjs engine\'s browser profiles and RemoteAuth\'s temporary zips (unset: DATA_DIR/wwebjs).', { minLength: 1 }),
  ),
  ACTOR_CALL_TIMEOUT_MS: Int('Deadline of a command sent to an actor.', 15_000, 100, 600_000),
  HTTP_SERVER: OneOf('HTTP server under Fastify and Socket.IO: `uws` (uWebSockets.js) or `node`.', ['uws', 'node'] as const, 'uws'),
  LEASE_TTL_MS: Int('Lifetime of a tenant lease in Redis; renewed at a third of it.', 15_000, 1_000, 600_000),
  NODE_CAPACITY: Int('Most sessions this node runs.', 1_000, 1, 100_000),
  RESTORE_CONCURRENCY: Int(
    'Sessions a single node starts at once when it restores the active ones after a start. Each start boots a worker and connects its engine; lower it for Chromium (wwebjs) sessions.',
    32,
    1,
    256,
  ),
  CHROMIUM_PATH: Str('Chromium executable for the wwebjs engine.', { default: '/usr/bin/chromium' }),
  METRICS_BASIC_AUTH: Type.Optional(Str('`user:password` required to read /metrics (unset: open).', { minLength: 3 })),
  SHUTDOWN_TIMEOUT_MS: Int('Deadline of a graceful shutdown before the process exits anyway.', 20_000, 1_000, 600_000),
  DEMO_SEED: Bool('Create demo phones, contacts and chats in the simulator at start (npm run demo).', false),
  OUTBOX_RETENTION_S: Int('How long events are kept for replay (GET /api/events, Socket.IO lastEventId) and webhook delivery, in seconds.', 7 * 86_400, 60, 365 * 86_400),
  OUTBOX_CLEANUP_INTERVAL_S: Int('How often each node deletes events older than OUTBOX_RETENTION_S, in seconds.', 3_600, 1, 86_400),
  WEBHOOK_RETRY_WINDOW_S: Int('How long a webhook delivery is retried before it is given up, in seconds.', 3 * 86_400, 1, 30 * 86_400),
  WEBHOOK_DISABLE_AFTER_S: Int('A webhook whose every attempt has failed for this long is disabled, with the reason, in seconds.', 3 * 86_400, 1, 30 * 86_400),
  WEBHOOK_BACKOFF_BASE_MS: Int('Delay after the first failed webhook attempt; doubles with each attempt, with jitter.', 10_000, 1, 3_600_000),
  WEBHOOK_BACKOFF_MAX_MS: Int('Longest delay between two attempts of one webhook delivery.', 3_600_000, 1, 86_400_000),
  WEBHOOK_CONCURRENCY: Int('Webhook requests this node makes at once, all endpoints together.', 32, 1, 1_024),
  WEBHOOK_TIMEOUT_MS: Int('Deadline of one webhook request, connect to answer.', 10_000, 100, 120_000),
  WEBHOOK_POLL_MS: Int('How often a node looks for due webhook deliveries (events written on the node wake it at once).', 1_000, 10, 60_000),
  WEBHOOK_ALLOW_PRIVATE_URLS: Bool('Let webhook URLs reach loopback, private and link-local addresses (tests, receivers inside your network).', false),
});

export type Config = Readonly<Static<typeof ConfigSchema>>;

export class ConfigError extends AppError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(ErrorCodes.CONFIG_INVALID, `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

function describeValue(schema: TSchema): string {
  return typeof schema.description === 'string' ? schema.description : '';
}

/**
 * Parse and validate `env`. Empty strings count as unset. Throws one `ConfigError` listing every
 * problem; returns a frozen object otherwise.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    const converted = Value.Convert(schema as TSchema, value);
    raw[key] = converted;
  }
  const withDefaults = Value.Default(ConfigSchema, raw) as Record<string, unknown>;
  const seen = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const key = error.path.replace(/^\//, '').split('/')[0] ?? '';
    // One line per variable: a missing string reports both "required" and "expected string".
    if (seen.has(key)) continue;
    seen.add(key);
    const schema = (ConfigSchema.properties as Record<string, TSchema>)[key];
    const hint = schema ? ` (${describeValue(schema)})` : '';
    const got = env[key];
    const shown = got === undefined || got === '' ? 'missing' : key.includes('SECRET') || key.includes('AUTH') ? 'invalid value' : `got ${JSON.stringify(got)}`;
    problems.push(`${key}: ${error.message}, ${shown}${hint}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(withDefaults as Static<typeof ConfigSchema>);
}

/** Where tenant actors run: ISOLATION, with `auto` resolved for the engine (docs/wwebjs.md). */
export function actorIsolation(config: Config): 'worker' | 'process' {
  if (config.ISOLATION !== 'auto') return config.ISOLATION;
  return config.WA_ENGINE === 'wwebjs' ? 'process' : 'worker';
}

/** Heap limit of one actor in MB: ACTOR_MEMORY_MB, or the engine's default. */
export function actorMemoryMb(config: Config): number {
  return config.ACTOR_MEMORY_MB ?? (config.WA_ENGINE === 'wwebjs' ? 256 : 64);
}

/** Folder of the wwebjs engine's browser profiles: WWEBJS_DATA_DIR, or DATA_DIR/wwebjs. */
export function wwebjsDataDir(config: Config): string {
  return config.WWEBJS_DATA_DIR ?? join(config.DATA_DIR, 'wwebjs');
}

/** A copy of the process environment, for entry points that add defaults before `loadConfig`. */
export function readEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

/** Rows of the README configuration table, generated from the schema. */
export function configTable(): string {
  const lines = ['| Variable | Default | Description |', '| --- | --- | --- |'];
  for (const [key, schema] of Object.entries(ConfigSchema.properties as Record<string, TSchema>)) {
    const def = schema.default === undefined ? ((ConfigSchema.required as string[] | undefined)?.includes(key) ? '*(required)*' : '*(unset)*') : `\`${String(schema.default)}\``;
    lines.push(`| \`${key}\` | ${def} | ${describeValue(schema)} |`);
  }
  return lines.join('\n');
}
