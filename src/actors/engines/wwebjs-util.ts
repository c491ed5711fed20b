/** Small helpers of the wwebjs engine: deadlines and reconnect delays. */

/**
 * Resolves or rejects like `promise`, or rejects with `onTimeout()` after `ms`. The original promise
 * keeps running (whatsapp-web.js calls cannot be cancelled); its late rejection is swallowed here so it
 * never becomes an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential from `initialMs`, capped at `maxMs`,
 * with equal jitter (half fixed, half random) so a node's sessions do not retry in lockstep.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
