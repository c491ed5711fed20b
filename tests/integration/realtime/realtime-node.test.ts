import { realtimeSuite } from './suite.js';

realtimeSuite('node');
