import { createActorHost } from '../../../src/supervisor/host.js';
import { transportContract } from './transport-contract.js';

transportContract('in-process', createActorHost({ isolation: 'in-process' }).spawn);
transportContract('worker thread', createActorHost({ isolation: 'worker', memoryMb: 64 }).spawn);
transportContract('child process', createActorHost({ isolation: 'process', memoryMb: 64 }).spawn);
