export {
  createRealtime,
  type EventMeta,
  type Realtime,
  type RealtimeDeps,
  type RealtimeEvent,
  type RealtimeEventName,
  ReadyInfo,
  type ServerToClientEvents,
} from './realtime.js';
export type { DurableEvent, EventSource } from './event-stream.js';
export type { Authenticate, Principal } from './handshake.js';
