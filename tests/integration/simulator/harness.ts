import WebSocket from 'ws';
import { createLogger } from '../../../src/domain/log.js';
import type { Engine, EngineEvent, EngineEventOf, EngineEventType } from '../../../src/actors/engines/engine.js';
import { socketUrl } from '../../../src/simulator/client.js';
import { parseFrame, ServerFrame, type ClientFrame } from '../../../src/simulator/protocol.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator/server.js';

/** Test harness for the simulator and the sandbox engine: a real simulator on port 0, real sockets. */

/** Guard for waits only: a missing event fails with a clear message instead of the suite timeout. */
const WAIT_MS = 10_000;

export async function startSimulator(opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = createSimulator({ log: createLogger({ level: 'silent' }), port: 0, ...opts });
  await sim.listen();
  return sim;
}

export interface HttpResult {
  status: number;
  body: unknown;
}

/** JSON client of the phone API; every response body is read, so no connection stays open. */
export function phoneApi(baseUrl: string) {
  async function request(method: string, path: string, body?: unknown): Promise<HttpResult> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }
  return {
    request,
    get: (path: string) => request('GET', path),
    post: (path: string, body?: unknown) => request('POST', path, body),
    put: (path: string, body?: unknown) => request('PUT', path, body),
  };
}
export type PhoneApi = ReturnType<typeof phoneApi>;

let numberSeq = 0;
/** A fresh phone number per call, so tests in one file never share accounts by accident. */
export function freshNumber(): string {
  numberSeq += 1;
  return `49170${process.pid % 1000}${String(numberSeq).padStart(4, '0')}`;
}

export async function createPhone(api: PhoneApi, name: string): Promise<string> {
  const number = freshNumber();
  const res = await api.post('/phones', { number, name });
  if (res.status !== 201) throw new Error(`could not create phone: ${JSON.stringify(res)}`);
  return number;
}

/** Collects events of one source and hands out matching ones, each at most once, waiting if needed. */
export class Recorder<E extends { type: string }> {
  readonly events: E[] = [];
  readonly #taken = new Set<number>();
  #waiters: Array<{ match: (e: E) => boolean; resolve: (e: E) => void }> = [];

  push(event: E): void {
    this.events.push(event);
    const index = this.events.length - 1;
    const waiter = this.#waiters.find((w) => w.match(event));
    if (waiter) {
      this.#taken.add(index);
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(event);
    }
  }

  /** The first not yet taken event of `type` matching `pred`, now or when it comes. */
  take<T extends E['type']>(type: T, pred: (e: Extract<E, { type: T }>) => boolean = () => true): Promise<Extract<E, { type: T }>> {
    const match = (e: E): boolean => e.type === type && pred(e as Extract<E, { type: T }>);
    const index = this.events.findIndex((e, i) => !this.#taken.has(i) && match(e));
    if (index >= 0) {
      this.#taken.add(index);
      return Promise.resolve(this.events[index] as Extract<E, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no "${type}" event came; got: ${this.events.map((e) => e.type).join(', ')}`));
      }, WAIT_MS);
      const done = (e: E): void => {
        clearTimeout(timer);
        resolve(e as Extract<E, { type: T }>);
      };
      this.#waiters.push({ match, resolve: done });
    });
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

export function recordEngine(engine: Engine): Recorder<EngineEvent> & {
  next<T extends EngineEventType>(type: T, pred?: (e: EngineEventOf<T>) => boolean): Promise<EngineEventOf<T>>;
} {
  const rec = new Recorder<EngineEvent>();
  engine.subscribe((e) => rec.push(e));
  return Object.assign(rec, { next: rec.take.bind(rec) });
}

/** A bare protocol client: sends frames, records every frame and the close code. */
export interface RawSession {
  frames: Recorder<ServerFrame>;
  send(frame: ClientFrame | Record<string, unknown>): void;
  sendText(text: string): void;
  closed: Promise<number>;
  close(): Promise<void>;
}

export async function openRaw(sim: Simulator): Promise<RawSession> {
  const ws = new WebSocket(socketUrl(sim.url));
  const frames = new Recorder<ServerFrame>();
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (data: WebSocket.RawData) => {
    const frame = parseFrame(ServerFrame, String(data));
    if (!frame) throw new Error(`invalid frame from simulator: ${String(data)}`);
    frames.push(frame);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    frames,
    send: (frame) => ws.send(JSON.stringify(frame)),
    sendText: (text) => ws.send(text),
    closed,
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close();
        await closed;
      }
    },
  };
}

/** Link a raw session to `number` through the phone API; returns its credentials. */
export async function linkRaw(sim: Simulator, api: PhoneApi, number: string): Promise<{ session: RawSession; credentials: string }> {
  const session = await openRaw(sim);
  session.send({ type: 'hello', credentials: null });
  const qr = await session.frames.take('qr');
  const res = await api.post(`/phones/${number}/link`, { qr: qr.qr });
  if (res.status !== 200) throw new Error(`link failed: ${JSON.stringify(res)}`);
  const auth = await session.frames.take('authenticated');
  await session.frames.take('ready');
  return { session, credentials: auth.credentials };
}
