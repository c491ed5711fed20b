export {
  createRealtime,
  type Realtime,
  type RealtimeDeps,
  type RealtimeEvent,
  type RealtimeEventName,
  ReadyInfo,
  type ServerToClientEvents,
} from './realtime.js';
export type { Authenticate, Principal } from './handshake.js';
