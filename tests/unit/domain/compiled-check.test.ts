import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compiledCheck, lazyCheck } from '../../../src/domain/compiled-check.js';

describe('compiledCheck and lazyCheck', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('compiles nothing until first used, then compiles once and checks like the compiled check', () => {
    const compile = vi.spyOn(TypeCompiler, 'Compile');
    const schema = Type.Object({ type: Type.Literal('ping'), seq: Type.Integer({ minimum: 1 }) });
    const isPing = lazyCheck(schema);
    expect(compile).not.toHaveBeenCalled();

    expect(isPing({ type: 'ping', seq: 1 })).toBe(true);
    expect(isPing({ type: 'ping', seq: 0 })).toBe(false);
    expect(isPing({ type: 'pong', seq: 1 })).toBe(false);
    expect(isPing('ping')).toBe(false);
    expect(compile).toHaveBeenCalledTimes(1);
  });

  it('compiles a schema once however many callers ask for it, and lazyCheck shares that compile', () => {
    const compile = vi.spyOn(TypeCompiler, 'Compile');
    const schema = Type.Object({ n: Type.Number() });
    const first = compiledCheck(schema);
    expect(compiledCheck(schema)).toBe(first);
    const isN = lazyCheck(schema);
    expect(isN({ n: 1 })).toBe(true);
    expect(isN({ n: 'one' })).toBe(false);
    expect(compile).toHaveBeenCalledTimes(1);
  });
});
