import Fastify from 'fastify';
import { serveIpc } from '../lib/ipc.js';

/**
 * The bare baseline: Fastify on node:http returning, from memory, the same JSON the gateway answers.
 * No auth, no database, no logging: what the framework alone costs on this machine.
 */

const bodies = new Map<string, unknown>();
const app = Fastify({ logger: false });
// The object is serialized on every request, as a handler that builds its answer would.
app.get('/*', async (request, reply) => {
  const body = bodies.get(request.url.split('?')[0] ?? '');
  if (body === undefined) return reply.code(404).send({ error: 'not set' });
  return body;
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.addresses()[0];

serveIpc(
  {
    set(args: { path: string; body: string }) {
      bodies.set(args.path, JSON.parse(args.body) as unknown);
    },
  },
  { url: `http://127.0.0.1:${typeof address === 'object' && address !== undefined ? address.port : 0}` },
);
process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
