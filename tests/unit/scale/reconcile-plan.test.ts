import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../../src/supervisor/cluster/registry.js';
import { planClaims, shuffled } from '../../../src/supervisor/reconcile-plan.js';

const node = (nodeId: string, load: number, capacity = 100, draining = false): NodeInfo => ({ nodeId, load, capacity, draining });

describe('planClaims', () => {
  it('splits the tenants of a lost node evenly between the survivors', () => {
    const nodes = [node('a', 10), node('b', 10)];
    const a = planClaims({ nodeId: 'a', nodes, me: node('a', 10), unowned: 10, maxClaims: 50 });
    const b = planClaims({ nodeId: 'b', nodes, me: node('b', 10), unowned: 10, maxClaims: 50 });
    expect(a.quota + b.quota).toBe(10);
    expect(a.quota).toBe(5);
  });

  it('lets the least-loaded node claim first and gives it the larger share', () => {
    const nodes = [node('a', 2), node('b', 8), node('c', 5)];
    const a = planClaims({ nodeId: 'a', nodes, me: node('a', 2), unowned: 9, maxClaims: 50 });
    const b = planClaims({ nodeId: 'b', nodes, me: node('b', 8), unowned: 9, maxClaims: 50 });
    const c = planClaims({ nodeId: 'c', nodes, me: node('c', 5), unowned: 9, maxClaims: 50 });
    expect([a.rank, c.rank, b.rank]).toEqual([0, 1, 2]);
    expect(a.quota).toBeGreaterThan(c.quota);
    expect(c.quota).toBeGreaterThan(b.quota);
    // target = ceil((2 + 8 + 5 + 9) / 3) = 8
    expect([a.quota, b.quota, c.quota]).toEqual([6, 0, 3]);
  });

  it('bounds a round by maxClaims, so a restart is no thundering herd', () => {
    const plan = planClaims({ nodeId: 'a', nodes: [], me: node('a', 0), unowned: 1_000, maxClaims: 16 });
    expect(plan.quota).toBe(16);
  });

  it('never claims past its capacity, and a full node claims nothing', () => {
    expect(planClaims({ nodeId: 'a', nodes: [], me: node('a', 8, 10), unowned: 50, maxClaims: 50 }).quota).toBe(2);
    expect(planClaims({ nodeId: 'a', nodes: [], me: node('a', 10, 10), unowned: 50, maxClaims: 50 }).quota).toBe(0);
  });

  it('leaves draining nodes out: a draining node claims nothing and others take its share', () => {
    const nodes = [node('a', 0), node('b', 0, 100, true)];
    expect(planClaims({ nodeId: 'b', nodes, me: node('b', 0, 100, true), unowned: 10, maxClaims: 50 }).quota).toBe(0);
    expect(planClaims({ nodeId: 'a', nodes, me: node('a', 0), unowned: 10, maxClaims: 50 }).quota).toBe(10);
  });

  it('uses its own fresh load rather than its registry entry', () => {
    const plan = planClaims({ nodeId: 'a', nodes: [node('a', 0), node('b', 10)], me: node('a', 10), unowned: 4, maxClaims: 50 });
    expect(plan.quota).toBe(2);
  });

  it('claims nothing when nothing is unowned', () => {
    expect(planClaims({ nodeId: 'a', nodes: [], me: node('a', 0), unowned: 0, maxClaims: 50 }).quota).toBe(0);
  });
});

describe('shuffled', () => {
  it('returns the same items in another order without changing the input', () => {
    const input = [1, 2, 3, 4, 5];
    let seed = 0;
    const out = shuffled(input, () => ((seed = (seed * 9301 + 49297) % 233280) / 233280));
    expect([...out].sort()).toEqual(input);
    expect(input).toEqual([1, 2, 3, 4, 5]);
    expect(out).not.toEqual(input);
  });
});
