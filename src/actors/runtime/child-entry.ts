/**
 * Entry point of an actor in a child process (ISOLATION=process). Started by
 * src/supervisor/transports/child-process.ts with an IPC channel; everything else arrives in `sys.init`.
 */
import { ErrorCodes } from '../../domain/errors.js';
import { runActor } from './actor-runtime.js';
import { describeThrown } from './error-data.js';
import { childProcessPort } from './ports.js';

if (process.send === undefined) throw new Error('child-entry must run in a process forked with an IPC channel');
const port = childProcessPort(process);

// The parent went away (or closed the channel): nobody can use this actor any more.
process.on('disconnect', () => process.exit(1));

// A throw outside any command (an engine callback, a timer) still ends the actor, but with its reason
// reported first, as a worker thread's 'error' event would report it.
process.on('uncaughtException', (err) => {
  port.post({ type: 'sys.error', fatal: true, error: { code: ErrorCodes.INTERNAL, message: `uncaught: ${describeThrown(err)}` } });
  port.exit(1);
});

runActor(port);
