import type { Suite } from '../lib/context.js';
export const densitySuite: Suite = { name: 'density', steps: () => 0, async run() { return []; } };
