import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { messageTypeOf, toWire, type Account, type ConnectionLogEntry, type Device, type SessionConnection, type StoredMessage } from './model.js';
import { chatIdOf, CloseCodes, numberOf, type MediaUpload, type WireAck, type WireChat, type WireMessage } from './protocol.js';
import { createTraffic, type Traffic } from './traffic.js';

/**
 * The WhatsApp network's state, in memory: accounts (one per phone), their messages, and at most one
 * linked device per account with its credentials, its live connection and its delivery queue. Pure
 * logic, no I/O: the WebSocket gateway hands it a `SessionConnection` per socket and the phone API
 * calls it directly. Everything runs synchronously on one event loop, so each method is atomic.
 */

export interface NetworkOptions {
  clock: Clock;
  /** Messages per chat sent in the history sync of a newly attached session (default 50). */
  historyPerChat?: number;
  /** Send every delivery twice, to exercise the receiver's idempotence (default false). */
  duplicateDeliveries?: boolean;
  /** Entries kept in the connection log (default 1000). */
  connectionLogSize?: number;
}

export interface MessageContent {
  body: string;
  media?: MediaUpload | undefined;
}

const PREVIEW_CHARS = 100;

export type Network = ReturnType<typeof createNetwork>;

export function createNetwork(opts: NetworkOptions) {
  const clock = opts.clock;
  const historyPerChat = opts.historyPerChat ?? 50;
  const accounts = new Map<string, Account>();
  const messages = new Map<string, StoredMessage>();
  const byCredentials = new Map<string, Device>();
  /** Test hook: accounts whose session requests go unanswered, like a network that swallows packets. */
  const stalled = new Set<string>();
  /** QR string -> the linking session waiting for a phone to scan it. */
  const qrWaiters = new Map<string, (device: Device) => void>();
  const traffic: Traffic = createTraffic({ clock, duplicateDeliveries: opts.duplicateDeliveries ?? false, logSize: opts.connectionLogSize ?? 1000 });

  function account(number: string): Account {
    const a = accounts.get(number);
    if (!a) throw new NotFoundError(`Phone ${number}`);
    return a;
  }

  function createAccount(number: string, name: string): { account: Account; created: boolean } {
    const existing = accounts.get(number);
    if (existing) return { account: existing, created: false };
    const created: Account = { number, name, photo: null, device: null, messages: [] };
    accounts.set(number, created);
    return { account: created, created: true };
  }

  function newMessageId(): string {
    // Shaped like WhatsApp Web's own ids; unique across the network, identical for both parties.
    return `3EB0${randomBytes(10).toString('hex').toUpperCase()}`;
  }

  /**
   * Store a message and route it. `onStored` runs after the message has its id and before any
   * delivery or ack, so a sending session learns the id before it can see an ack for it.
   */
  function post(from: string, to: string, content: MessageContent, origin: Device | null, onStored?: (m: StoredMessage) => void): StoredMessage {
    const sender = account(from);
    const recipient = account(to);
    if (from === to) throw new ValidationError('A phone cannot message itself');
    const media = content.media
      ? { mimetype: content.media.mimetype, filename: content.media.filename, data: Buffer.from(content.media.dataBase64, 'base64') }
      : null;
    const msg: StoredMessage = {
      id: newMessageId(),
      from,
      to,
      body: content.body,
      timestamp: clock.now(),
      type: media ? messageTypeOf(media.mimetype) : 'chat',
      media,
      ack: 1,
    };
    messages.set(msg.id, msg);
    sender.messages.push(msg);
    recipient.messages.push(msg);
    traffic.counters.sent += 1;
    onStored?.(msg);
    // The sender's own linked device sees messages typed on the phone (WhatsApp's message_create),
    // before any ack for them.
    if (sender.device && sender.device !== origin) traffic.deliver(sender.device, msg);
    // Phones are always online: the recipient account has the message as soon as it is stored.
    setAck(msg, 2);
    if (recipient.device) traffic.deliver(recipient.device, msg);
    return msg;
  }

  function setAck(msg: StoredMessage, ack: WireAck): void {
    if (ack <= msg.ack) return;
    msg.ack = ack;
    const device = accounts.get(msg.from)?.device;
    if (device) traffic.sendAck(device, msg);
  }

  function markRead(number: string, chatId: string): number {
    const me = account(number);
    const other = numberOf(chatId);
    let count = 0;
    for (const m of me.messages) {
      if (m.to === number && m.from === other && m.ack < 3) {
        setAck(m, 3);
        count += 1;
      }
    }
    return count;
  }

  function chatsOf(a: Account): WireChat[] {
    const chats = new Map<string, WireChat>();
    for (const m of a.messages) {
      const other = m.from === a.number ? m.to : m.from;
      let chat = chats.get(other);
      if (!chat) {
        chat = { id: chatIdOf(other), name: accounts.get(other)?.name ?? other, unreadCount: 0, lastTimestamp: null, lastPreview: null };
        chats.set(other, chat);
      }
      if (m.to === a.number && m.ack < 3) chat.unreadCount += 1;
      chat.lastTimestamp = m.timestamp;
      chat.lastPreview = (m.body === '' && m.media ? `[${m.type}]` : m.body).slice(0, PREVIEW_CHARS);
    }
    return [...chats.values()].sort((x, y) => (y.lastTimestamp ?? 0) - (x.lastTimestamp ?? 0));
  }

  /** The last `historyPerChat` messages of each chat, oldest first. */
  function historyOf(a: Account): WireMessage[] {
    const perChat = new Map<string, StoredMessage[]>();
    for (const m of a.messages) {
      const other = m.from === a.number ? m.to : m.from;
      const list = perChat.get(other) ?? [];
      list.push(m);
      perChat.set(other, list);
    }
    const picked = [...perChat.values()].flatMap((list) => list.slice(-historyPerChat));
    return picked.sort((x, y) => x.timestamp - y.timestamp).map(toWire);
  }

  /** Bind a live connection to a device: authenticated, history, ready, then whatever was queued. */
  function attach(device: Device, conn: SessionConnection): void {
    const a = account(device.number);
    if (device.conn && device.conn !== conn) {
      // One connection per linked device, as WhatsApp: the newcomer wins, the old one is told why.
      const old = device.conn;
      device.conn = null;
      traffic.connectionEnded(old.id, 'conflict');
      traffic.counters.conflicts += 1;
      old.end({ type: 'conflict', reason: 'replaced' }, CloseCodes.CONFLICT);
    }
    device.conn = conn;
    traffic.connectionStarted(conn.id, device);
    conn.send({ type: 'authenticated', credentials: device.credentials, me: { number: a.number, name: a.name } });
    conn.send({ type: 'history', chats: chatsOf(a), messages: historyOf(a) });
    conn.send({ type: 'ready' });
    traffic.flush(device, messages);
  }

  function detach(device: Device, conn: SessionConnection, reason: string): void {
    if (device.conn !== conn) return;
    device.conn = null;
    traffic.connectionEnded(conn.id, reason);
  }

  function link(number: string, qr: string): Device {
    const a = account(number);
    const waiter = qrWaiters.get(qr);
    if (!waiter) throw new NotFoundError('QR code (unknown or expired)');
    qrWaiters.delete(qr);
    // The simulator allows one linked device per account: a new link replaces the old one.
    if (a.device) logout(a.device, 'phone_unlinked');
    const device: Device = {
      id: randomBytes(8).toString('hex'),
      number,
      credentials: `sim1.${randomBytes(24).toString('base64url')}`,
      conn: null,
      pending: new Map(),
      pendingAcks: new Map(),
    };
    a.device = device;
    byCredentials.set(device.credentials, device);
    waiter(device);
    return device;
  }

  function logout(device: Device, reason: 'phone_unlinked' | 'logout'): void {
    const a = accounts.get(device.number);
    if (a?.device === device) a.device = null;
    byCredentials.delete(device.credentials);
    device.pending.clear();
    device.pendingAcks.clear();
    const conn = device.conn;
    if (conn) {
      device.conn = null;
      traffic.connectionEnded(conn.id, 'logged_out');
      conn.end({ type: 'logged_out', reason }, CloseCodes.LOGGED_OUT);
    }
  }

  function linkedDevice(number: string): Device {
    const device = account(number).device;
    if (!device) throw new ConflictError(`Phone ${number} has no linked device`);
    return device;
  }

  function visibleMessage(number: string, messageId: string): StoredMessage | null {
    const m = messages.get(messageId);
    return m && (m.from === number || m.to === number) ? m : null;
  }

  return {
    createAccount,
    account,
    findAccount: (number: string) => accounts.get(number) ?? null,
    setPhoto(number: string, photo: { mimetype: string; data: Buffer }): void {
      account(number).photo = photo;
    },
    sendFromPhone: (from: string, to: string, content: MessageContent) => post(from, to, content, null),
    sendFromDevice(device: Device, toChatId: string, content: MessageContent, onStored: (m: StoredMessage) => void): StoredMessage {
      return post(device.number, numberOf(toChatId), content, device, onStored);
    },
    markRead,
    listMessages(number: string, box: 'inbox' | 'sent' | 'all'): WireMessage[] {
      const list = account(number).messages.filter((m) => box === 'all' || (box === 'inbox' ? m.to === number : m.from === number));
      return list.map(toWire);
    },
    /** Register the QR a linking session shows; `onLinked` runs when a phone scans it. */
    offerQr(qr: string, onLinked: (device: Device) => void): void {
      qrWaiters.set(qr, onLinked);
    },
    withdrawQr(qr: string): void {
      qrWaiters.delete(qr);
    },
    link,
    authenticate: (credentials: string) => byCredentials.get(credentials) ?? null,
    attach,
    detach,
    logout,
    unlinkFromPhone(number: string): void {
      logout(linkedDevice(number), 'phone_unlinked');
    },
    ackDelivery: (device: Device, id: string) => traffic.acked(device, id),
    /** Test hook: hand an already delivered message to the account's device again, same id. */
    redeliver(number: string, messageId: string): void {
      const device = linkedDevice(number);
      const m = visibleMessage(number, messageId);
      if (!m) throw new NotFoundError(`Message ${messageId} of phone ${number}`);
      traffic.redeliver(device, m);
    },
    /** Test hook: while on, requests from the account's session get no answer (deliveries still flow). */
    setStalled(number: string, on: boolean): void {
      linkedDevice(number);
      if (on) stalled.add(number);
      else stalled.delete(number);
    },
    isStalled(number: string): boolean {
      return stalled.has(number);
    },
    /** Test hook: drop the account's session socket without a frame, like a network failure. */
    dropConnection(number: string): void {
      const conn = linkedDevice(number).conn;
      if (!conn) throw new ConflictError(`Phone ${number} has no connected session`);
      conn.terminate();
    },
    mediaOf(number: string, messageId: string): MediaUpload | null {
      const m = visibleMessage(number, messageId);
      if (!m?.media) return null;
      return { mimetype: m.media.mimetype, filename: m.media.filename, dataBase64: m.media.data.toString('base64') };
    },
    photoOf(chatId: string): { mimetype: string; dataBase64: string } | null {
      const photo = accounts.get(numberOf(chatId))?.photo;
      return photo ? { mimetype: photo.mimetype, dataBase64: photo.data.toString('base64') } : null;
    },
    noteConnection(): void {
      traffic.counters.connections += 1;
    },
    stats() {
      let linked = 0;
      let online = 0;
      let pending = 0;
      for (const a of accounts.values()) {
        if (!a.device) continue;
        linked += 1;
        if (a.device.conn) online += 1;
        pending += a.device.pending.size;
      }
      return { accounts: accounts.size, linkedDevices: linked, onlineDevices: online, pending, ...traffic.counters };
    },
    connectionLog: (): ConnectionLogEntry[] => traffic.log(),
  };
}
