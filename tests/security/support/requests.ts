import type { LightMyRequestResponse } from 'fastify';

/** What every answer must look like, whatever was asked. */

/** Headers helmet must put on every response, errors included. */
export const SECURITY_HEADERS: Record<string, RegExp> = {
  'content-security-policy': /frame-ancestors 'none'/,
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^SAMEORIGIN$/,
  'strict-transport-security': /max-age=\d+/,
  'referrer-policy': /no-referrer/,
  'cross-origin-resource-policy': /same-origin/,
  'cross-origin-opener-policy': /same-origin/,
};

export function missingSecurityHeaders(res: LightMyRequestResponse): string[] {
  return Object.entries(SECURITY_HEADERS)
    .filter(([name, pattern]) => !pattern.test(String(res.headers[name] ?? '')))
    .map(([name]) => name);
}

/** Problems with an error answer: it must be `{ statusCode, code, error, message }` and say what went wrong, nothing internal. */
export function errorBodyProblems(res: LightMyRequestResponse): string[] {
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return [`not JSON: ${res.body.slice(0, 200)}`];
  }
  if (typeof body !== 'object' || body === null) return ['not an object'];
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  const keys = Object.keys(b).sort().join(',');
  if (keys !== 'code,error,message,statusCode') problems.push(`keys ${keys}`);
  if (b.statusCode !== res.statusCode) problems.push(`statusCode ${String(b.statusCode)} != ${res.statusCode}`);
  if (typeof b.code !== 'string' || !/^WA_[A-Z_]+$/.test(b.code)) problems.push(`code ${String(b.code)}`);
  if (typeof b.message !== 'string' || b.message.trim().length < 4) problems.push(`message ${String(b.message)}`);
  else if (INTERNALS.test(b.message)) problems.push(`message shows internals: ${b.message}`);
  return problems;
}

/** What a message must never show: stack frames, file paths, SQL, driver names. */
const INTERNALS = /\bat .+:\d+:\d+|node_modules|\/work\/|\.ts:\d+|\bSELECT\b|\bINSERT\b|\bsyntax error\b|\brelation "|postgres|ECONNREFUSED/i;

/** Victim strings found in a response (body or headers) that the request itself did not carry. */
export function leaks(res: LightMyRequestResponse, secrets: readonly string[], request: string): string[] {
  const seen = `${res.body}\n${JSON.stringify(res.headers)}`;
  return secrets.filter((s) => seen.includes(s) && !request.includes(s));
}
