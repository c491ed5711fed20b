import { pino } from 'pino';
import type { Logger } from '../domain/log.js';
import type { ActorContext } from './protocol.js';

const levels: Record<number, 'debug' | 'info' | 'warn' | 'error'> = { 10: 'debug', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'error' };

/**
 * A pino logger for code inside an actor (engines take one) whose records travel to the parent through
 * the actor context, so the node's one root logger writes every line.
 */
export function createActorLogger(log: ActorContext<unknown>['log']): Logger {
  const destination = {
    write(line: string): void {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // pino writes one JSON object per line; anything else is not ours to forward
      }
      const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...obj } = record;
      const method = levels[typeof level === 'number' ? level : 30] ?? 'info';
      log[method](obj, typeof msg === 'string' ? msg : '');
    },
  };
  return pino({ level: 'debug', base: null }, destination);
}
