import { describe, expect, it } from 'vitest';
import { cmdlineMatchesProfile } from '../../../src/actors/engines/wwebjs-processes.js';

describe('recognising a session by its Chromium command lines', () => {
  const dir = '/data/wwebjs/session-t1';

  it('matches the browser (NUL-separated argv) and its children (one rewritten title string)', () => {
    expect(cmdlineMatchesProfile(`/usr/lib/chromium/chromium\0--headless=new\0--user-data-dir=${dir}\0--no-sandbox\0`, dir)).toBe(true);
    expect(cmdlineMatchesProfile(`/usr/lib/chromium/chromium --type=renderer --user-data-dir=${dir} --lang=en-US\0`, dir)).toBe(true);
    expect(cmdlineMatchesProfile(`/usr/lib/chromium/chromium --type=zygote --user-data-dir=${dir}`, dir)).toBe(true);
  });

  it('does not take another tenant whose folder name starts the same', () => {
    expect(cmdlineMatchesProfile(`chromium\0--user-data-dir=${dir}0\0`, dir)).toBe(false);
    expect(cmdlineMatchesProfile(`chromium --type=renderer --user-data-dir=${dir}-other --lang=en`, dir)).toBe(false);
    expect(cmdlineMatchesProfile(`chromium\0--user-data-dir=/x${dir}\0`, dir)).toBe(false);
  });
});
