import { describe, expect, it } from 'vitest';
import { createActorLogger } from '../../../src/actors/actor-logger.js';

describe('actor logger', () => {
  it('hands each call to the actor context at its own level, with or without fields', () => {
    const calls: [string, object, string][] = [];
    const record = (level: string) => (obj: object, msg: string) => calls.push([level, obj, msg]);
    const log = createActorLogger({ debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') });
    const err = new Error('boom');
    log.debug('just a message');
    log.info({ attempt: 2 }, 'reconnecting');
    log.warn({ err }, 'socket error');
    log.error('gave up');
    expect(calls).toEqual([
      ['debug', {}, 'just a message'],
      ['info', { attempt: 2 }, 'reconnecting'],
      ['warn', { err }, 'socket error'],
      ['error', {}, 'gave up'],
    ]);
  });
});
