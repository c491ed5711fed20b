import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
/** Where `npm run start` expects the console: `dist/console` at the repository root (git-ignored). */
const outDir = fileURLToPath(new URL('../dist/console', import.meta.url));
/** The server `vite dev` forwards API and Socket.IO calls to (`npm start` listens on 3000 by default). */
const apiTarget = 'http://127.0.0.1:3000';

export default defineConfig({
  root: here,
  // Paths in index.html are absolute, so deep links served by the SPA fallback (/chats/...) load them.
  base: '/',
  // Vite transforms JSX with Oxc; Preact's automatic runtime needs no plugin.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // One small app: a single chunk is simpler to cache and serve than a split graph.
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': apiTarget,
      '/socket.io': { target: apiTarget, ws: true },
    },
  },
});
