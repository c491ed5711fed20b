import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { serveIpc } from '../lib/ipc.js';
import { pssBytes, rssBytes } from '../lib/sys.js';

/**
 * The isolation floor: what one idle worker thread, or one idle child process, costs on this machine
 * with nothing of ours in it. The density figures are compared with it.
 */

const IDLE = "require('node:worker_threads').parentPort.postMessage('ready'); setInterval(() => {}, 1 << 30);";

function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  return new Promise((r) => setTimeout(r, 500));
}

serveIpc({
  async workers(args: { count: number }) {
    await settle();
    const before = rssBytes(process.pid);
    const workers: Worker[] = [];
    for (let i = 0; i < args.count; i++) {
      const w = new Worker(IDLE, { eval: true });
      await once(w, 'message');
      workers.push(w);
    }
    await settle();
    const after = rssBytes(process.pid);
    await Promise.all(workers.map((w) => w.terminate()));
    return { perWorkerBytes: (after - before) / args.count };
  },
  async children(args: { count: number }) {
    const children = [];
    for (let i = 0; i < args.count; i++) {
      const c = spawn(process.execPath, ['-e', "process.send('ready'); setInterval(() => {}, 1 << 30);"], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      await once(c, 'message');
      children.push(c);
    }
    await new Promise((r) => setTimeout(r, 500));
    const pss = children.map((c) => pssBytes(c.pid ?? 0));
    const rss = children.map((c) => rssBytes(c.pid ?? 0));
    for (const c of children) c.kill('SIGKILL');
    return { perChildPssBytes: pss.reduce((a, b) => a + b, 0) / pss.length, perChildRssBytes: rss.reduce((a, b) => a + b, 0) / rss.length };
  },
});
