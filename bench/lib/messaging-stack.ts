import { proc } from './build.js';
import { dropSchema, numbers, schemaName, type BenchContext } from './context.js';
import { startProc, type Proc } from './ipc.js';
import { createPhones, registerAdmin, startNodeProc, type Account, type NodeInfo } from './stack.js';

export interface LinkedTenant {
  admin: Account;
  number: string;
}

export interface MessagingStack {
  sim: Proc<{ url: string }>;
  node: Proc<NodeInfo>;
  tenants: LinkedTenant[];
  schema: string;
}

/** Simulator + gateway node + `tenants` admins whose phones are linked through the real QR flow. */
export async function startMessagingStack(ctx: BenchContext, suite: string, tenants: number, env: Record<string, string> = {}): Promise<MessagingStack> {
  const schema = schemaName(suite);
  ctx.defer(() => dropSchema(ctx.dbUrl, schema));
  const sim = await startProc<{ url: string }>(proc('sim-proc'));
  ctx.defer(() => sim.stop());
  const node = await startNodeProc(ctx, { schema, simUrl: sim.info.url, env });
  ctx.defer(() => node.stop());
  const nums = numbers('491', tenants);
  await createPhones(sim.info.url, nums);
  const linked: LinkedTenant[] = [];
  for (const [i, number] of nums.entries()) linked.push({ admin: await registerAdmin(node.info.url, `Tenant ${i}`), number });
  await node.request('link', { tenants: linked.map((t) => ({ tenantId: t.admin.user.tenantId, number: t.number })), simUrl: sim.info.url, concurrency: 8 });
  return { sim, node, tenants: linked, schema };
}
