import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * Request/reply over a child process's IPC channel, for the bench's helper processes (servers, load
 * senders, socket clients). The child calls `serveIpc(handlers)`; the parent `startProc()` and then
 * `proc.request(cmd, args)`. Only the bench uses this: it is a harness, not product code.
 */

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type Handler = (args: never) => unknown;

/** Child side: answers requests with its handlers, then tells the parent it is ready (with `info`). */
export function serveIpc(handlers: Record<string, Handler>, info: unknown = {}): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('not started with an IPC channel');
  process.on('message', (raw: unknown) => {
    const req = raw as Request;
    const handler = handlers[req.cmd];
    const reply = (r: Reply) => send(r);
    if (handler === undefined) return reply({ id: req.id, ok: false, error: `unknown command ${req.cmd}` });
    Promise.resolve()
      .then(() => handler(req.args as never))
      .then(
        (result) => reply({ id: req.id, ok: true, result: result ?? null }),
        (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  // The parent going away (Ctrl-C, a crash) must not leave load generators or servers running.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true, info });
}

export interface Proc<I = unknown> {
  readonly pid: number;
  readonly info: I;
  readonly child: ChildProcess;
  request<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  /** Asks nicely (SIGTERM), then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcOptions {
  env?: Record<string, string | undefined>;
  execArgv?: string[];
  /** Where the child's stdout/stderr go: 'ignore' (default) or 'inherit' (debugging). */
  output?: 'ignore' | 'inherit';
  args?: string[];
}

/** Forks a built helper (a .js file) and waits until it says ready. */
export async function startProc<I = unknown>(file: string, opts: StartProcOptions = {}): Promise<Proc<I>> {
  const output = opts.output ?? (process.env.BENCH_PROC_OUTPUT === 'inherit' ? 'inherit' : 'ignore');
  const child = fork(file, opts.args ?? [], {
    env: { ...process.env, ...opts.env },
    execArgv: opts.execArgv ?? [],
    stdio: [output === 'inherit' ? 'inherit' : 'ignore', output, output === 'ignore' ? 'pipe' : 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let seq = 0;
  const exited = once(child, 'exit');
  exited.then(
    ([code, signal]) => {
      for (const p of pending.values()) p.reject(new Error(`${file} exited (${code ?? signal}) ${stderr}`));
      pending.clear();
    },
    () => undefined,
  );
  const ready = new Promise<I>((resolve, reject) => {
    child.on('message', (raw: unknown) => {
      const msg = raw as { ready?: boolean; info?: I } & Partial<Reply>;
      if (msg.ready === true) return resolve(msg.info as I);
      const p = msg.id === undefined ? undefined : pending.get(msg.id);
      if (p === undefined || msg.id === undefined) return;
      pending.delete(msg.id);
      if (msg.ok === true) p.resolve(msg.result);
      else p.reject(new Error(`${file}: ${msg.ok === false ? msg.error : 'bad reply'}`));
    });
    child.once('exit', (code, signal) => reject(new Error(`${file} exited before ready (${code ?? signal}): ${stderr}`)));
  });
  const info = await ready;
  const pid = child.pid ?? -1;
  let stopping: Promise<void> | undefined;
  return {
    pid,
    info,
    child,
    request<T>(cmd: string, args?: unknown): Promise<T> {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, cmd, args: args ?? null } satisfies Request);
      });
    },
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited.catch(() => undefined);
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
