import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../domain/errors.js';
import { errorBody } from '../errors.js';

/**
 * Bounds how long a client may take to deliver its request body on the node HTTP server. Node's own
 * `requestTimeout` stops counting once a handler reads the body (checked on Node 20), and the idle
 * timeout restarts with every byte, so a client trickling one byte a second would hold a connection
 * and a request for ever (slowloris). uWS needs none of this: fastify-uws bounds the whole request.
 */
export function registerBodyTimeout(app: FastifyInstance, timeoutMs: number): void {
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    // No body, or all of it already in: nothing to wait for.
    if (raw.complete) return;
    const timer = setTimeout(() => {
      if (raw.complete) return;
      request.log.info({ timeoutMs }, 'request body too slow, connection closed');
      if (reply.sent) {
        raw.socket.destroy();
        return;
      }
      // `connection: close` makes Node close the socket once the 408 is written.
      void reply
        .code(408)
        .header('connection', 'close')
        .send(errorBody(408, ErrorCodes.VALIDATION, `The request did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    const clear = (): void => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
  });
}
