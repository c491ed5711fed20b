import { randomUUID } from 'node:crypto';
import type { Sql } from './db.js';
import type { TenantRepo } from './types.js';
import { insertUser } from './users.js';
import { withTenant } from './with-tenant.js';

export function createTenantRepo(sql: Sql): TenantRepo {
  return {
    async createWithAdmin(input) {
      const tenantId = randomUUID();
      // One transaction under the new tenant's id: RLS lets wa_app insert exactly this tenant's rows, and a
      // taken email rolls the tenant back with the admin.
      return withTenant(sql, tenantId, async (tx) => {
        await tx`INSERT INTO tenants (id, name) VALUES (${tenantId}, ${input.tenantName})`;
        const admin = await insertUser(tx, {
          tenantId,
          role: 'admin',
          name: input.name,
          email: input.email,
          passwordHash: input.passwordHash,
        });
        // Every tenant has its session row from the start, so reads never need to special-case its absence.
        await tx`INSERT INTO sessions (tenant_id) VALUES (${tenantId})`;
        return { tenantId, admin };
      });
    },
  };
}
