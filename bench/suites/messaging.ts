import type { Suite } from '../lib/context.js';
export const inboundSuite: Suite = { name: 'inbound', steps: () => 0, async run() { return []; } };
export const outboundSuite: Suite = { name: 'outbound', steps: () => 0, async run() { return []; } };
