/** The lease port moved to src/supervisor/leases/; re-exported for the session service. */
export type { Lease, LeaseManager } from '../leases/lease-manager.js';
export { createLocalLeases } from '../leases/local-leases.js';
