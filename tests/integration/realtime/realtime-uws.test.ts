import { realtimeSuite } from './suite.js';

// One file per server kind, so the two runs go in parallel and a failure names its server.
realtimeSuite('uws');
