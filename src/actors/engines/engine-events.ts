import type { LeveledLog } from '../../domain/log.js';
import { EngineEventHub, type EngineEvent, type EngineEventOf, type EngineEventType, type EngineListener, type EngineState } from './engine.js';

/**
 * The event side every engine shares: listeners, the state listeners were last told, and one ordered
 * queue of work per run. Events of a connection are emitted one at a time, in order, each after the
 * listeners of the one before have finished (so the actor stores a message before it hears the next).
 * A new run (`endRun`, on stop or logout) drops whatever the old run still had queued.
 */
export class EngineEvents {
  readonly #hub = new EngineEventHub();
  readonly #log: LeveledLog;
  #state: EngineState = 'stopped';
  #run = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor(log: LeveledLog) {
    this.#log = log;
  }

  /** What listeners were last told. It lags the connection while a listener is busy. */
  get state(): EngineState {
    return this.#state;
  }

  /** The current run; pass it to `enqueue` from a callback that may outlive the run. */
  get run(): number {
    return this.#run;
  }

  subscribe(listener: EngineListener): () => void {
    return this.#hub.subscribe(listener);
  }

  on<T extends EngineEventType>(type: T, listener: EngineListener<EngineEventOf<T>>): () => void {
    return this.#hub.on(type, listener);
  }

  /** Emits now, outside the queue (the caller is already inside a queued task, or orders it itself). */
  emit(event: EngineEvent): Promise<void> {
    return this.#hub.emit(event);
  }

  /**
   * Runs `task` after everything queued before it, unless its run has ended by then. A failing task is
   * logged and the queue goes on: a listener's failure is the actor's to report, not the engine's.
   */
  enqueue(task: () => Promise<void>, run = this.#run): void {
    this.#tail = this.#tail.then(async () => {
      if (run !== this.#run) return;
      try {
        await task();
      } catch (err) {
        this.#log.warn({ err }, 'engine listener failed');
      }
    });
  }

  /** A state change from outside the queue: told in order with the events queued before it. */
  setState(state: EngineState): void {
    this.enqueue(() => this.transition(state));
  }

  /** A state change from inside a queued task: told at once, once per change. */
  async transition(state: EngineState): Promise<void> {
    if (this.#state === state) return;
    this.#state = state;
    await this.#hub.emit({ type: 'state', state });
  }

  /** Resolves once everything queued so far has run. */
  drained(): Promise<void> {
    return this.#tail;
  }

  /** Ends the current run: its queued work is dropped from now on. */
  endRun(): void {
    this.#run += 1;
  }

  /**
   * After a stop: tells listeners `stopped` directly (the queue belonged to the run that ended); a
   * listener's failure is logged, the stop goes on.
   */
  async stopped(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await this.#hub.emit({ type: 'state', state: 'stopped' }).catch((err: unknown) => this.#log.warn({ err }, 'engine listener failed'));
  }
}
