import type { RunningNode } from '../../../src/node.js';

/** Actors of a node in one supervisor status, read from its `wa_actors` gauge (what /metrics shows). */
export async function actorsIn(node: RunningNode, status: string): Promise<number> {
  const metric = await node.metrics.registry.getSingleMetric('wa_actors')?.get();
  return metric?.values.find((v) => v.labels.status === status)?.value ?? 0;
}
