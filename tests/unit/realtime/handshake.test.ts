import { describe, expect, it } from 'vitest';
import { corsOrigin } from '../../../src/http/realtime/cors.js';
import { tokenFromHandshake, tokenExpiry } from '../../../src/http/realtime/handshake.js';
import { chatIdOfRoom, eventRooms } from '../../../src/http/realtime/rooms.js';

const source = (over: Partial<Parameters<typeof tokenFromHandshake>[0]>) => ({ auth: {}, headers: {}, query: {}, ...over });

describe('realtime handshake token', () => {
  it('prefers auth.token, then the Authorization header, then the query', () => {
    const all = source({ auth: { token: 'a' }, headers: { authorization: 'Bearer h' }, query: { token: 'q' } });
    expect(tokenFromHandshake(all)).toBe('a');
    expect(tokenFromHandshake({ ...all, auth: {} })).toBe('h');
    expect(tokenFromHandshake({ ...all, auth: {}, headers: {} })).toBe('q');
  });

  it('strips a Bearer prefix and ignores empty, non-string and non-bearer values', () => {
    expect(tokenFromHandshake(source({ auth: { token: 'bearer  abc' } }))).toBe('abc');
    expect(tokenFromHandshake(source({ auth: { token: 42 }, headers: { authorization: 'Basic dXNlcg==' } }))).toBeUndefined();
    expect(tokenFromHandshake(source({ auth: { token: '  ' }, query: { token: ['first', 'second'] } }))).toBe('first');
    expect(tokenFromHandshake(source({ auth: null }))).toBeUndefined();
  });

  it('reads the expiry of a JWT in milliseconds and none from a token that is not a JWT', () => {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(tokenExpiry(`${part({ alg: 'HS256' })}.${part({ exp: 1_700_000_000 })}.sig`)).toBe(1_700_000_000_000);
    expect(tokenExpiry(`${part({ alg: 'HS256' })}.${part({ sub: 'x' })}.sig`)).toBeUndefined();
    expect(tokenExpiry('opaque')).toBeUndefined();
  });
});

describe('realtime rooms and CORS', () => {
  it('sends a tenant event to its admins and a chat event to its admins and that chat', () => {
    expect(eventRooms('t1', undefined)).toEqual(['t:t1:admins']);
    expect(eventRooms('t1', '1@c.us')).toEqual(['t:t1:admins', 'c:t1:1@c.us']);
    expect(chatIdOfRoom('t1', 'c:t1:1@c.us')).toBe('1@c.us');
    expect(chatIdOfRoom('t1', 'c:t2:1@c.us')).toBeUndefined();
  });

  it('allows any origin for * and exactly the listed ones otherwise', () => {
    expect(corsOrigin('*')).toBe('*');
    expect(corsOrigin('')).toBe('*');
    expect(corsOrigin('https://a.example, null ,')).toEqual(['https://a.example', 'null']);
  });
});
