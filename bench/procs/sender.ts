import { Agent, request } from 'node:http';
import { serveIpc } from '../lib/ipc.js';

/**
 * Sends messages from contact phones to tenants' phones through the simulator's phone API at a target
 * rate, like WhatsApp users writing to the businesses. Each body carries a sequence number and the wall
 * clock time of the send, so receivers compute end-to-end latency and spot losses and duplicates.
 */

export interface Route {
  from: string;
  to: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs JSON; resolves with the status and the parsed answer (null when it was not JSON). */
function post(simUrl: URL, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      { host: simUrl.hostname, port: simUrl.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', () => resolve({ status: 0, json: null }));
    req.end(payload);
  });
}

/** Wall clock in ms with sub-millisecond precision, comparable across processes of one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

serveIpc({
  /**
   * `count` messages spread round-robin over `routes`, paced at `ratePerS` (at most `maxInFlight`
   * unanswered). What is due at each 2 ms tick goes in one request to the simulator's load-generation
   * endpoint (POST /testing/messages): one HTTP request per message cost this process and the simulator
   * about a core between them at 5,000/s on a 2-core machine, CPU the gateway under test then lacked.
   * Each message still carries its own send time. Returns how many the network accepted, and the window.
   */
  async blast(args: { simUrl: string; routes: Route[]; count: number; ratePerS: number; tag: string; maxInFlight: number }) {
    const simUrl = new URL(args.simUrl);
    let sent = 0;
    let accepted = 0;
    let failed = 0;
    let inFlight = 0;
    const t0 = performance.now();
    const firstSend = wallMs();
    let finish!: () => void;
    const allDone = new Promise<void>((r) => (finish = r));
    const pump = () => {
      const due = Math.min(args.count, Math.floor(((performance.now() - t0) / 1000) * args.ratePerS) + 1);
      const n = Math.min(due - sent, args.maxInFlight - inFlight);
      if (n > 0) {
        const stamp = wallMs().toFixed(3);
        const messages = Array.from({ length: n }, () => {
          const route = args.routes[sent % args.routes.length] as Route;
          return { from: route.from, to: route.to, body: `${args.tag}:${sent++}:${stamp}` };
        });
        inFlight += n;
        void post(simUrl, '/testing/messages', { messages }).then(({ status, json }) => {
          inFlight -= n;
          const results = status === 200 ? (json as { results: { id?: string }[] }).results : [];
          const ok = results.filter((r) => r.id !== undefined).length;
          accepted += ok;
          failed += n - ok;
          if (accepted + failed === args.count) finish();
        });
      }
      if (sent < args.count) setTimeout(pump, 2);
    };
    pump();
    await allDone;
    return { sent, accepted, failed, firstSend, lastSend: wallMs(), ms: performance.now() - t0 };
  },
});
