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

function send(simUrl: URL, from: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      { host: simUrl.hostname, port: simUrl.port, path: `/phones/${from}/messages`, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
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
   * unanswered). Returns how many the network accepted, and the send window.
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
      while (sent < due && inFlight < args.maxInFlight) {
        const route = args.routes[sent % args.routes.length] as Route;
        const seq = sent++;
        inFlight++;
        void send(simUrl, route.from, { to: route.to, body: `${args.tag}:${seq}:${wallMs().toFixed(3)}` }).then((status) => {
          inFlight--;
          if (status === 201) accepted++;
          else failed++;
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
