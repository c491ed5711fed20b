import type { LeveledLog, LogFn } from '../domain/log.js';
import type { ActorContext } from './protocol.js';

/**
 * The log of code inside an actor (engines take one): each call goes straight to the actor context, which
 * sends it to the parent, where the node's root logger writes it with the tenant id, its level filter and
 * its redaction list.
 *
 * Not a pino logger: every record went through pino's JSON and back before it left the actor, and pino
 * cost each worker its module's start-up and a logger's construction, about a tenth of an actor worker's
 * start (CPU profile of a 40-session restore). At 1,000 sessions that is CPU the restore is short of.
 */
export function createActorLogger(log: ActorContext<unknown>['log']): LeveledLog {
  const level = (write: (obj: object, msg: string) => void): LogFn =>
    ((objOrMsg: object | string, msg?: string) => (typeof objOrMsg === 'string' ? write({}, objOrMsg) : write(objOrMsg, msg ?? ''))) as LogFn;
  return { debug: level(log.debug), info: level(log.info), warn: level(log.warn), error: level(log.error) };
}
