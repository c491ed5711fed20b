import { logLevelValues, type ActorContext, type ActorLogLevel, type UpMessage } from '../protocol.js';
import { toLogObject } from './error-data.js';

/**
 * The context handed to `behavior.start`. Logs travel to the parent as `sys.log` records so that one
 * pino root logger (with the tenant id bound there) writes every line; records below the parent's level
 * are dropped here, before they cost a message.
 */
export function createActorContext(opts: {
  tenantId: string;
  minLogLevel: number;
  post: (message: UpMessage) => void;
}): ActorContext<unknown> & { requestStop(reason: string): void } {
  const { post, minLogLevel } = opts;

  const write = (level: ActorLogLevel) => (obj: object, msg: string) => {
    if (logLevelValues[level] < minLogLevel) return;
    try {
      post({ type: 'sys.log', level, msg, obj: toLogObject(obj) });
    } catch (err) {
      // A log record with a function or similar inside cannot be cloned; keep the line, drop the fields.
      post({ type: 'sys.log', level, msg, obj: { logFieldsDropped: (err as Error).message } });
    }
  };

  return {
    tenantId: opts.tenantId,
    emit(event) {
      post({ type: 'evt', event });
    },
    log: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
    requestStop(reason) {
      post({ type: 'sys.exit', reason });
    },
  };
}
