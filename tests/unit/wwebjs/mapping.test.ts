import { describe, expect, it } from 'vitest';
import {
  ackOf,
  disconnectReasonOf,
  engineStateOf,
  InitTimeoutError,
  isSupportedChatId,
  messageTypeOf,
  QR_RETRIES_REASON,
  startFailureOf,
} from '../../../src/actors/engines/wwebjs-mapping.js';
import { backoffDelay } from '../../../src/actors/engines/wwebjs-util.js';

describe('whatsapp-web.js -> domain mapping', () => {
  it('keeps person and group chats and drops statuses, channels and bare LIDs', () => {
    expect(isSupportedChatId('491701234567@c.us')).toBe(true);
    expect(isSupportedChatId('120363025246125486@g.us')).toBe(true);
    expect(isSupportedChatId('status@broadcast')).toBe(false);
    expect(isSupportedChatId('120363000000000000@newsletter')).toBe(false);
    expect(isSupportedChatId('123456789012345@lid')).toBe(false);
  });

  it('folds whatsapp-web.js message types into ours (voice notes are audio)', () => {
    expect(messageTypeOf('chat')).toBe('chat');
    expect(messageTypeOf('ptt')).toBe('audio');
    expect(messageTypeOf('audio')).toBe('audio');
    expect(messageTypeOf('document')).toBe('document');
    expect(messageTypeOf('location')).toBe('other');
    expect(messageTypeOf('revoked')).toBe('other');
  });

  it('keeps ack levels -1..4 and clamps anything else', () => {
    expect([-1, 0, 1, 2, 3, 4].map(ackOf)).toEqual([-1, 0, 1, 2, 3, 4]);
    expect(ackOf(7)).toBe(4);
    expect(ackOf(-5)).toBe(0);
  });

  it('names why a session ended in the Engine vocabulary', () => {
    expect(disconnectReasonOf('LOGOUT').reason).toBe('logged_out');
    expect(disconnectReasonOf('UNPAIRED').reason).toBe('logged_out');
    expect(disconnectReasonOf('CONFLICT').reason).toBe('conflict');
    expect(disconnectReasonOf(QR_RETRIES_REASON).reason).toBe('qr_timeout');
    expect(disconnectReasonOf('TOS_BLOCK')).toEqual({ reason: 'TOS_BLOCK', detail: 'WhatsApp Web state TOS_BLOCK' });
  });

  it('maps connection states and leaves terminal ones to the disconnected event', () => {
    expect(engineStateOf('CONNECTED')).toBe('connected');
    expect(engineStateOf('OPENING')).toBe('connecting');
    expect(engineStateOf('TIMEOUT')).toBe('reconnecting');
    expect(engineStateOf('CONFLICT')).toBeNull();
    expect(engineStateOf('UNPAIRED')).toBeNull();
  });

  it('classifies start failures: network, our deadline, browser launch, browser crash', () => {
    expect(startFailureOf(new Error('net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/'))).toEqual({
      reason: 'network',
      detail: 'net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/',
    });
    expect(startFailureOf(new InitTimeoutError(60_000))).toEqual({ reason: 'network', detail: 'WhatsApp Web did not load within 60000 ms' });
    // whatsapp-web.js throws bare strings when the page never became WhatsApp Web.
    expect(startFailureOf('auth timeout').reason).toBe('network');
    expect(startFailureOf(new Error('Failed to launch the browser process!\nlong stderr...'))).toEqual({
      reason: 'browser_failed',
      detail: 'Failed to launch the browser process!',
    });
    expect(startFailureOf(new Error('Protocol error (Page.navigate): Target closed')).reason).toBe('browser_crashed');
    expect(startFailureOf(new Error('something else')).reason).toBe('start_failed');
  });
});

describe('reconnect backoff', () => {
  it('doubles from the initial delay up to the cap, with half of it random', () => {
    const low = () => 0;
    const high = () => 1;
    expect(backoffDelay(0, 2_000, 120_000, low)).toBe(1_000);
    expect(backoffDelay(0, 2_000, 120_000, high)).toBe(2_000);
    expect(backoffDelay(3, 2_000, 120_000, high)).toBe(16_000);
    expect(backoffDelay(20, 2_000, 120_000, low)).toBe(60_000);
    expect(backoffDelay(20, 2_000, 120_000, high)).toBe(120_000);
  });

  it('never retries in a tight loop: every delay is at least half the initial one', () => {
    for (let attempt = 0; attempt < 50; attempt++) expect(backoffDelay(attempt, 2_000, 120_000, Math.random)).toBeGreaterThanOrEqual(1_000);
  });
});
