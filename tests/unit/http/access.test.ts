import { describe, expect, it } from 'vitest';
import { chatAccessError, decideChatAccess, type ChatFacts } from '../../../src/http/auth/access.js';

describe('chat access rule', () => {
  const cases: [ChatFacts, ReturnType<typeof decideChatAccess>][] = [
    [{ role: 'admin', chatExists: true, assigned: false }, 'allow'],
    [{ role: 'admin', chatExists: false, assigned: false }, 'not_found'],
    [{ role: 'employee', chatExists: true, assigned: true }, 'allow'],
    [{ role: 'employee', chatExists: true, assigned: false }, 'forbidden'],
    [{ role: 'employee', chatExists: false, assigned: false }, 'not_found'],
    // A permission row for a chat that is gone (or of another tenant) grants nothing.
    [{ role: 'employee', chatExists: false, assigned: true }, 'not_found'],
  ];

  for (const [facts, expected] of cases) {
    it(`answers ${expected} to an ${facts.role} when the chat ${facts.chatExists ? 'exists' : 'is absent'} and is ${facts.assigned ? '' : 'not '}assigned`, () => {
      expect(decideChatAccess(facts)).toBe(expected);
    });
  }

  it('turns a denial into the error code the HTTP table maps to 403 or 404', () => {
    expect(chatAccessError('allow')).toBeNull();
    expect(chatAccessError('forbidden')?.code).toBe('WA_FORBIDDEN');
    expect(chatAccessError('not_found')?.code).toBe('WA_NOT_FOUND');
  });
});
