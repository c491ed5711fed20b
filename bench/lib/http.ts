import autocannon from 'autocannon';

/** JSON over fetch; every body is read. Throws on a status outside `expect`. */
export async function json<T = unknown>(
  url: string,
  opts: { method?: string; token?: string; body?: unknown; expect?: number[] } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  const text = await res.text();
  const expect = opts.expect ?? [200, 201];
  if (!expect.includes(res.status)) throw new Error(`${opts.method ?? 'GET'} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text === '' ? null : JSON.parse(text)) as T;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
  /** Responses per HTTP status, e.g. { '201': 5000, '503': 12 }: what a non-2xx count was. */
  statusCodes: Record<string, number>;
}

/** One autocannon run (keep-alive connections, no pipelining). */
export async function load(opts: {
  url: string;
  connections: number;
  durationS: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.durationS,
    method: opts.method ?? 'GET',
    headers: opts.headers ?? {},
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  return {
    rps: result.requests.total / (result.duration > 0 ? result.duration : opts.durationS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat?.count ?? 0])),
  };
}
