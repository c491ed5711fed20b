import type { ServerFrame, WireAck, WireMessage, WireMessageType } from './protocol.js';

/** The simulator's records. Plain data, shared by the network state and its delivery traffic. */

/** What the network needs from one live session socket. */
export interface SessionConnection {
  readonly id: string;
  send(frame: ServerFrame): void;
  /** Send a last frame, then close the socket with `code`. */
  end(frame: ServerFrame, code: number): void;
  /** Drop the socket without a word, as a network failure would. */
  terminate(): void;
}

export interface StoredMedia {
  mimetype: string;
  filename: string;
  data: Buffer;
}

export interface StoredMessage {
  id: string;
  from: string;
  to: string;
  body: string;
  timestamp: number;
  type: WireMessageType;
  media: StoredMedia | null;
  ack: WireAck;
}

export interface Account {
  number: string;
  name: string;
  photo: { mimetype: string; data: Buffer } | null;
  device: Device | null;
  /** This account's messages, sent and received, in order. */
  messages: StoredMessage[];
}

export interface Device {
  id: string;
  number: string;
  credentials: string;
  conn: SessionConnection | null;
  /** Messages handed to this device and not yet acked by it, in delivery order, with send attempts. */
  pending: Map<string, number>;
  /** Latest ack level of this device's sent messages that changed while it was offline. */
  pendingAcks: Map<string, WireAck>;
}

export interface ConnectionLogEntry {
  connectionId: string;
  number: string;
  deviceId: string;
  from: string;
  to: string | null;
  endReason: string | null;
}

export function messageTypeOf(mimetype: string): WireMessageType {
  if (mimetype.startsWith('image/')) return 'image';
  if (mimetype.startsWith('video/')) return 'video';
  if (mimetype.startsWith('audio/')) return 'audio';
  return 'document';
}

export function toWire(m: StoredMessage): WireMessage {
  const media = m.media === null ? null : { mimetype: m.media.mimetype, filename: m.media.filename, size: m.media.data.length };
  return { id: m.id, from: m.from, to: m.to, body: m.body, timestamp: m.timestamp, type: m.type, media, ack: m.ack };
}

