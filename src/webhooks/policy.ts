/**
 * What an attempt's answer means, and when to try again: pure functions, so the rules are tested without
 * a network (tests/integration/webhooks also checks them end to end against a real receiver).
 */

export type Verdict =
  | { outcome: 'succeeded' }
  | { outcome: 'retry'; retryAfterMs: number | null }
  | { outcome: 'failed'; disableReason: string | null };

/**
 * The verdict of an HTTP status. 2xx: delivered. 410 Gone: the receiver says the endpoint is gone for
 * good: give up and disable the endpoint. 408, 425, 429 and 5xx are temporary: retry (honouring
 * Retry-After). Other 4xx mean the receiver refuses this request as it is: sending it again would get the
 * same answer, so give up on this delivery only. 1xx/3xx (redirects are not followed): retry, a fixed
 * receiver will answer 2xx.
 */
export function verdictForStatus(status: number, retryAfterMs: number | null): Verdict {
  if (status >= 200 && status < 300) return { outcome: 'succeeded' };
  if (status === 410) return { outcome: 'failed', disableReason: 'the receiver answered 410 Gone' };
  if (status === 408 || status === 425 || status === 429 || status >= 500) return { outcome: 'retry', retryAfterMs };
  if (status >= 400) return { outcome: 'failed', disableReason: null };
  return { outcome: 'retry', retryAfterMs: null };
}

export interface BackoffOptions {
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** Ceiling of the delay. */
  maxMs: number;
}

/**
 * Delay before the next attempt after `attempt` (1-based) failed: exponential (base * 2^(attempt-1),
 * capped at max) with "equal jitter" (half fixed, half random), so receivers coming back from an outage
 * are not hit by every node's retries in the same instant, yet no retry comes sooner than half the curve.
 * A Retry-After the receiver sent wins, within the same ceiling.
 */
export function retryDelayMs(attempt: number, opts: BackoffOptions, random: () => number, retryAfterMs: number | null = null): number {
  if (retryAfterMs !== null) return Math.min(opts.maxMs, Math.max(0, retryAfterMs));
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 40));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date); null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
