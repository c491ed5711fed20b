import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE_ENTRY = fileURLToPath(new URL('./node-process.ts', import.meta.url));

/** A node running as its own process (node-process.ts). */
export interface NodeProcess {
  nodeId: string;
  url: string;
  proc: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it wrote to stderr (its logs), for failure messages. */
  logTail(): string;
}

/**
 * Starts node-process.ts: from `entry` when given (the JavaScript build of build.ts), from sources with
 * tsx otherwise.
 */
export async function spawnNodeProcess(env: Record<string, string>, opts: { entry?: string; startTimeoutMs?: number } = {}): Promise<NodeProcess> {
  const args = opts.entry === undefined ? ['--import', 'tsx', SOURCE_ENTRY] : [opts.entry];
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 5000) tail.shift();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<{ url: string; nodeId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start in time:\n${tail.join('\n')}`)), opts.startTimeoutMs ?? 60_000);
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('READY '.length)) as { url: string; nodeId: string });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`node exited before it was ready (code ${code}, signal ${signal}):\n${tail.join('\n')}`));
    });
  });
  const info = await ready;
  return { ...info, proc, exited, logTail: () => tail.join('\n') };
}

/** SIGKILL (if still running) and wait for the exit: for after-hooks. */
export async function killNodeProcess(node: NodeProcess | undefined): Promise<void> {
  if (node === undefined || node.proc.exitCode !== null || node.proc.signalCode !== null) return;
  node.proc.kill('SIGKILL');
  await node.exited;
}
