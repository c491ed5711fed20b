import type { Logger } from '../../domain/log.js';
import type { RealtimeMetricsHooks } from '../../metrics/hooks.js';

/** A stored event as the realtime channel sends it: `seq` orders a tenant's events without gaps. */
export interface DurableEvent {
  id: string;
  seq: number;
  name: 'message' | 'message_ack' | 'session_status' | 'chat_updated' | 'qr';
  /** Undefined: the tenant's admins only. */
  chatId?: string | undefined;
  payload: unknown;
}

/** The outbox, as the stream reads it (store.outbox behind a small adapter). */
export interface EventSource {
  /** Events with seq > after, oldest first; with `chatIds`, only those chats' events. See OutboxRepo.read. */
  read(tenantId: string, opts: { after: number; limit: number; chatIds?: string[] }): Promise<{ events: DurableEvent[]; cursor: number; truncated: boolean }>;
  head(tenantId: string): Promise<number>;
  /** The id a client sees for a tenant's seq (its `lastEventId`). */
  idOf(tenantId: string, seq: number): string;
}

/** What the stream needs of one socket. */
export interface StreamSocket {
  id: string;
  tenantId: string;
  role: 'admin' | 'employee';
  connected(): boolean;
  /** The chats an employee socket follows now (its chat rooms). */
  chatIds(): string[];
  /** Whether the socket may see an event of this chat (undefined: a tenant-wide event, admins only). */
  canSee(chatId: string | undefined): boolean;
  emit(event: DurableEvent): void;
  /** Joins / leaves the tenant's pending room (synchronously): room emits skip sockets in it. */
  joinPending(): void;
  leavePending(): void;
  ready(lastEventId: string | undefined, truncated: boolean): void;
  /** The stream cannot serve this socket (the store failed): close its transport so the client reconnects. */
  fail(err: unknown): void;
}

export interface EventStreamDeps {
  source: EventSource;
  /**
   * Emits to this node's sockets in `room`, except those in any of `except` (one room and no except is
   * the uWS fast path: one native publish).
   */
  emitLocal(room: string, except: string[], event: DurableEvent): void;
  rooms: { admins(tenantId: string): string; chat(tenantId: string, chatId: string): string; pending(tenantId: string): string };
  log: Logger;
  metrics?: RealtimeMetricsHooks;
  /** A socket waiting for events its replay saw but live publishing has not reached asks the outbox after this long. Default 1000 ms. */
  fillAfterMs?: number;
}

export interface EventStream {
  /** At connection, before any room is joined: a replaying socket is kept out of live room emits. */
  register(socket: StreamSocket, replay: boolean): void;
  /** Once the socket's rooms are joined: replays from `after` (a replaying socket) and sends `ready`. */
  start(socket: StreamSocket, after: number | undefined): Promise<void>;
  unregister(socket: StreamSocket): void;
  /** A committed event (from this node, or another node through the cluster adapter). */
  publish(tenantId: string, event: DurableEvent): void;
  close(): void;
}

interface Pending {
  socket: StreamSocket;
  cursor: number;
  reading: boolean;
  truncated: boolean;
}

interface Sequencer {
  tenantId: string;
  sockets: number;
  /** Every event up to this seq has been emitted to the rooms (null until anchored at the head). */
  published: number | null;
  anchoring: Promise<void> | null;
  /** Events that arrived ahead of a gap, by seq. */
  ahead: Map<number, DurableEvent>;
  filling: boolean;
  pending: Map<string, Pending>;
  timer: NodeJS.Timeout | undefined;
}

/** Events per replay read. */
const PAGE = 500;
/** Events held ahead of a gap before the gap is given up on (the outbox read fills gaps long before). */
const MAX_AHEAD = 10_000;
const RETRY_MS = 1000;

/**
 * Live events in seq order, once each, and replay that hands over to them without a gap or a repeat.
 *
 * Each node keeps, per tenant with sockets here, a sequencer: every committed event reaches it (local
 * commits, and other nodes' through the cluster adapter), and it emits them to the tenant's rooms strictly
 * in seq order, filling a gap (an event published late, or lost with a node that died between commit and
 * publish) from the outbox. `published` is then exact: every event up to it was emitted to the rooms.
 *
 * A socket reconnecting with `lastEventId` sits in the tenant's pending room, which every room emit
 * excludes, and reads the outbox after its cursor (only its chats for an employee). It leaves the pending
 * room in the same synchronous step in which its cursor equals `published`: what it read covers every
 * event up to there, and the rooms bring every later one. Never both, never neither, in order.
 */
export function createEventStream(deps: EventStreamDeps): EventStream {
  const log = deps.log.child({ component: 'event-stream' });
  const fillAfterMs = deps.fillAfterMs ?? 1000;
  const sequencers = new Map<string, Sequencer>();
  let closed = false;

  function ensure(tenantId: string): Sequencer {
    let seq = sequencers.get(tenantId);
    if (seq === undefined) {
      seq = { tenantId, sockets: 0, published: null, anchoring: null, ahead: new Map(), filling: false, pending: new Map(), timer: undefined };
      sequencers.set(tenantId, seq);
      anchor(seq);
    }
    return seq;
  }

  /** The head of the outbox when the first socket of a tenant arrives: later events are emitted live. */
  function anchor(seq: Sequencer): void {
    seq.anchoring = deps.source.head(seq.tenantId).then(
      (head) => {
        seq.anchoring = null;
        if (seq.published === null) seq.published = head;
        advance(seq);
      },
      (err: unknown) => {
        seq.anchoring = null;
        log.warn({ err, tenantId: seq.tenantId }, 'could not read the event head; retrying');
        later(seq, () => anchor(seq));
      },
    );
  }

  function later(seq: Sequencer, fn: () => void, ms = RETRY_MS): void {
    if (closed || sequencers.get(seq.tenantId) !== seq) return;
    clearTimeout(seq.timer);
    seq.timer = setTimeout(fn, ms);
    seq.timer.unref();
  }

  function emitRooms(seq: Sequencer, event: DurableEvent): void {
    const except = seq.pending.size > 0 ? [deps.rooms.pending(seq.tenantId)] : [];
    const admins = deps.rooms.admins(seq.tenantId);
    deps.emitLocal(admins, except, event);
    if (event.chatId !== undefined) deps.emitLocal(deps.rooms.chat(seq.tenantId, event.chatId), [admins, ...except], event);
    deps.metrics?.eventEmitted(event.name);
  }

  /** Emits what is next in line, hands over sockets whose replay reached `published`, fills gaps. */
  function advance(seq: Sequencer): void {
    if (seq.published === null) return;
    handOver(seq);
    for (let next = seq.ahead.get(seq.published + 1); next !== undefined; next = seq.ahead.get(seq.published + 1)) {
      seq.ahead.delete(next.seq);
      emitRooms(seq, next);
      seq.published = next.seq;
      handOver(seq);
    }
    for (const s of seq.ahead.keys()) if (s <= seq.published) seq.ahead.delete(s);
    const waiting = [...seq.pending.values()].some((p) => !p.reading && p.cursor > (seq.published ?? 0));
    if (seq.ahead.size > 0) void fill(seq);
    else if (waiting) later(seq, () => void fill(seq), fillAfterMs);
  }

  function handOver(seq: Sequencer): void {
    for (const p of [...seq.pending.values()]) {
      if (p.reading || seq.published === null) continue;
      if (p.cursor === seq.published) {
        // Same synchronous step as the emit that made published equal the cursor: no event in between.
        seq.pending.delete(p.socket.id);
        p.socket.leavePending();
        p.socket.ready(deps.source.idOf(seq.tenantId, p.cursor), p.truncated);
      } else if (p.cursor < seq.published) {
        void replay(seq, p); // the rooms sent more while it read (without it): read those too
      }
    }
  }

  /** Emits, in order, the events after `published` from the outbox (they are committed: a later one is). */
  async function fill(seq: Sequencer): Promise<void> {
    if (seq.filling || seq.published === null) return;
    seq.filling = true;
    try {
      for (;;) {
        const page = await deps.source.read(seq.tenantId, { after: seq.published, limit: PAGE });
        for (const e of page.events) {
          if (e.seq !== seq.published + 1) continue;
          seq.ahead.delete(e.seq);
          emitRooms(seq, e);
          seq.published = e.seq;
          handOver(seq);
        }
        if (page.events.length < PAGE) break;
      }
    } catch (err) {
      log.warn({ err, tenantId: seq.tenantId }, 'could not fill a gap in live events; retrying');
      seq.filling = false;
      later(seq, () => void fill(seq));
      return;
    }
    seq.filling = false;
    if (seq.ahead.size > MAX_AHEAD) {
      // Only a bug could get here (committed events the outbox does not return): skip rather than grow.
      log.error({ tenantId: seq.tenantId, ahead: seq.ahead.size }, 'live events stuck behind a gap: skipping it');
      seq.published = Math.min(...seq.ahead.keys()) - 1;
    }
    advance(seq);
  }

  async function replay(seq: Sequencer, p: Pending): Promise<void> {
    if (p.reading) return;
    p.reading = true;
    const { socket } = p;
    try {
      for (;;) {
        const chatIds = socket.role === 'admin' ? undefined : socket.chatIds();
        const page = await deps.source.read(seq.tenantId, { after: p.cursor, limit: PAGE, ...(chatIds === undefined ? {} : { chatIds }) });
        if (!socket.connected()) return;
        p.truncated ||= page.truncated;
        for (const e of page.events) if (e.seq > p.cursor && socket.canSee(e.chatId)) socket.emit(e);
        p.cursor = Math.max(p.cursor, page.cursor);
        if (page.events.length < PAGE) break;
      }
    } catch (err) {
      log.warn({ err, tenantId: seq.tenantId }, 'replay read failed: closing the socket so its client reconnects');
      socket.fail(err);
      return;
    } finally {
      p.reading = false;
    }
    advance(seq);
  }

  return {
    register(socket, replaying) {
      const seq = ensure(socket.tenantId);
      seq.sockets++;
      if (replaying) {
        socket.joinPending();
        seq.pending.set(socket.id, { socket, cursor: 0, reading: true, truncated: false });
      }
    },

    async start(socket, after) {
      const seq = sequencers.get(socket.tenantId);
      if (seq === undefined || !socket.connected()) return;
      const p = seq.pending.get(socket.id);
      if (p === undefined) {
        // Live only: `ready` names the last event emitted before this socket's rooms were joined.
        while (seq.published === null && socket.connected() && !closed) await (seq.anchoring ?? new Promise((r) => setTimeout(r, RETRY_MS)));
        if (socket.connected()) socket.ready(seq.published === null ? undefined : deps.source.idOf(seq.tenantId, seq.published), false);
        return;
      }
      p.cursor = after ?? 0;
      p.reading = false;
      await replay(seq, p);
    },

    unregister(socket) {
      const seq = sequencers.get(socket.tenantId);
      if (seq === undefined) return;
      seq.pending.delete(socket.id);
      seq.sockets--;
      if (seq.sockets <= 0) {
        clearTimeout(seq.timer);
        sequencers.delete(socket.tenantId);
      }
    },

    publish(tenantId, event) {
      const seq = sequencers.get(tenantId);
      // No socket of the tenant here: nothing to emit (its sockets elsewhere get it on their node).
      if (seq === undefined) return;
      if (seq.published !== null && event.seq <= seq.published) return;
      seq.ahead.set(event.seq, event);
      advance(seq);
    },

    close() {
      closed = true;
      for (const seq of sequencers.values()) clearTimeout(seq.timer);
      sequencers.clear();
    },
  };
}
