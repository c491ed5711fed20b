import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../../src/supervisor/with-defaults.js';

describe('withDefaults', () => {
  it('keeps a default when the override is explicitly undefined', () => {
    const defaults = { a: 1, b: 2, c: 3 };
    expect(withDefaults(defaults, { a: 10, b: undefined })).toEqual({ a: 10, b: 2, c: 3 });
    expect(withDefaults(defaults, undefined)).toEqual(defaults);
  });

  it('does not change the defaults object', () => {
    const defaults: Readonly<{ a: number }> = Object.freeze({ a: 1 });
    withDefaults(defaults, { a: 2 });
    expect(defaults).toEqual({ a: 1 });
  });
});
