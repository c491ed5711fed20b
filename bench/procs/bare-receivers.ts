import WebSocket from 'ws';
import { serveIpc } from '../lib/ipc.js';
import { Receipts } from '../lib/receipts.js';

/**
 * The inbound baseline: the tenants' phones linked by bare protocol clients that only ack what they
 * receive (no gateway, no database, no Socket.IO). Same simulator, same sender, same rate: what the
 * network and the load generator reach on this machine without us.
 */

const receipts = new Receipts();
const seen = new Set<string>();
const sockets: WebSocket[] = [];

function link(simUrl: string, number: string): Promise<void> {
  const ws = new WebSocket(`${simUrl.replace(/^http/, 'ws')}/ws`);
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', credentials: null })));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; qr?: string; message?: { id: string; body: string } };
      if (frame.type === 'qr' && frame.qr !== undefined) {
        fetch(`${simUrl}/phones/${number}/link`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ qr: frame.qr }) })
          .then((res) => res.text())
          .catch(reject);
      } else if (frame.type === 'ready') resolve();
      else if (frame.type === 'message' && frame.message !== undefined) {
        receipts.record(frame.message.body, seen.has(frame.message.id));
        seen.add(frame.message.id);
        ws.send(JSON.stringify({ type: 'delivery.ack', id: frame.message.id }));
      }
    });
  });
}

serveIpc({
  async link(args: { simUrl: string; numbers: string[] }) {
    await Promise.all(args.numbers.map((n) => link(args.simUrl, n)));
  },
  reset(args: { tag: string }) {
    receipts.reset(args.tag);
    seen.clear();
  },
  report: () => receipts.report(),
  close() {
    for (const ws of sockets) ws.close();
  },
});
