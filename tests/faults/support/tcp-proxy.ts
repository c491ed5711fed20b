import { EventEmitter } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the gateway and the simulator: the test can cut every connection and refuse new
 * ones (accepting and closing them at once, like a network that drops them), then let them through
 * again, on the same port. Emits `attempt` for every connection it refused.
 */
export interface TcpProxy extends EventEmitter {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Where connections go; settable after start (the simulator may listen later). */
  target: { host: string; port: number } | undefined;
  /** Destroys every open connection and refuses new ones until `resume`. */
  cut(): void;
  resume(): void;
  /** Connections refused while cut. */
  refused: number;
  close(): Promise<void>;
}

export async function startTcpProxy(): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let down = false;
  const emitter = new EventEmitter();
  const server: Server = createServer((client) => {
    if (down || proxy.target === undefined) {
      proxy.refused += 1;
      client.destroy();
      emitter.emit('attempt', proxy.refused);
      return;
    }
    const upstream = connect(proxy.target);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const proxy: TcpProxy = Object.assign(emitter, {
    url: `http://127.0.0.1:${port}`,
    target: undefined as TcpProxy['target'],
    refused: 0,
    cut() {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    resume() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  });
  return proxy;
}
