import { describe, expect, it } from 'vitest';
import { createChatListNotifier } from '../../../src/store/chat-list-notifier.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A `send` the test settles by hand, recording what each call carried. */
function manualSend() {
  const calls: string[][] = [];
  const pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const send = (tenantIds: string[]) => {
    calls.push(tenantIds);
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { calls, pending, send };
}

describe('chat list notifier', () => {
  it('sends the tenants marked in one turn together, each once', async () => {
    const s = manualSend();
    const notifier = createChatListNotifier(s.send, () => undefined);
    notifier.changed('a');
    notifier.changed('b');
    notifier.changed('a');
    expect(s.calls).toEqual([]);
    await turn();
    expect(s.calls).toEqual([['a', 'b']]);
  });

  it('keeps one statement in flight; what is marked meanwhile goes in the next', async () => {
    const s = manualSend();
    const notifier = createChatListNotifier(s.send, () => undefined);
    notifier.changed('a');
    await turn();
    notifier.changed('b');
    notifier.changed('c');
    await turn();
    expect(s.calls).toEqual([['a']]);
    s.pending[0]?.resolve();
    await turn();
    await turn();
    expect(s.calls).toEqual([['a'], ['b', 'c']]);
  });

  it('reports a failed send and goes on with the next', async () => {
    const s = manualSend();
    const errors: unknown[] = [];
    const notifier = createChatListNotifier(s.send, (err) => errors.push(err));
    notifier.changed('a');
    await turn();
    notifier.changed('b');
    s.pending[0]?.reject(new Error('database down'));
    await turn();
    await turn();
    expect(errors).toEqual([new Error('database down')]);
    expect(s.calls).toEqual([['a'], ['b']]);
  });

  it('sends what is marked on close and waits for it', async () => {
    const s = manualSend();
    const notifier = createChatListNotifier(s.send, () => undefined);
    notifier.changed('a');
    let closed = false;
    const closing = notifier.close().then(() => (closed = true));
    expect(s.calls).toEqual([['a']]);
    await turn();
    expect(closed).toBe(false);
    s.pending[0]?.resolve();
    await closing;
    expect(closed).toBe(true);
  });
});
