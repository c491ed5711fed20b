import type { NodeInfo } from './cluster/registry.js';

export interface ClaimPlanInput {
  nodeId: string;
  /** Live nodes as the registry shows them (this node's own entry, if any, is replaced by `me`). */
  nodes: readonly NodeInfo[];
  me: NodeInfo;
  /** Active tenants nobody holds a lease for. */
  unowned: number;
  /** Most claims in one round (RECONCILE_MAX_CLAIMS). */
  maxClaims: number;
}

export interface ClaimPlan {
  /** How many unowned tenants this node tries to claim this round. */
  quota: number;
  /** 0 for the least-loaded accepting node, 1 for the next ...: it waits `rank` steps before claiming. */
  rank: number;
}

/**
 * How much of the unowned work this node takes this round: its fair share of the total load over the
 * nodes that accept tenants, bounded by its room and by `maxClaims`. The least-loaded node goes first
 * (rank 0), the others wait a step each, so after a node loss the survivors fill up evenly instead of
 * the fastest grabbing everything. Pure: the loop in reconcile.ts applies it.
 */
export function planClaims(input: ClaimPlanInput): ClaimPlan {
  const { me } = input;
  const all = [...input.nodes.filter((n) => n.nodeId !== input.nodeId), me];
  const accepting = all.filter((n) => !n.draining && n.load < n.capacity);
  if (input.unowned <= 0 || !accepting.some((n) => n.nodeId === me.nodeId)) return { quota: 0, rank: 0 };
  const total = accepting.reduce((sum, n) => sum + n.load, 0) + input.unowned;
  const target = Math.ceil(total / accepting.length);
  const quota = Math.max(0, Math.min(target - me.load, me.capacity - me.load, input.maxClaims, input.unowned));
  const ratio = (n: NodeInfo): number => n.load / n.capacity;
  const rank = accepting.filter((n) => ratio(n) < ratio(me) || (ratio(n) === ratio(me) && n.nodeId < me.nodeId)).length;
  return { quota, rank };
}

/** A copy of `items` in random order (Fisher-Yates), so nodes claiming together do not collide on the same tenants. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
