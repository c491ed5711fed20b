import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';

const FILES = {
  '/demo.html': { file: 'demo.html', type: 'text/html; charset=utf-8' },
  '/demo.js': { file: 'demo.js', type: 'text/javascript; charset=utf-8' },
  '/demo.css': { file: 'demo.css', type: 'text/css; charset=utf-8' },
} as const;

/**
 * The seed's test client at /demo.html: a token field, the socket, init/logout and the live QR. It loads
 * the Socket.IO client from this server (/socket.io/socket.io.js), never a CDN. Read once at start.
 */
export const testClientRoutes: FastifyPluginAsync = async (app) => {
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = await readFile(new URL(file, import.meta.url));
    app.get(path, { schema: { hide: true } }, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
};
