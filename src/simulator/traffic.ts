import type { Clock } from '../domain/clock.js';
import { chatIdOf } from './protocol.js';
import { toWire, type ConnectionLogEntry, type Device, type StoredMessage } from './model.js';

/**
 * Delivery to linked devices (at least once, with redelivery of what was not acked), ack
 * notifications, counters and the connection log. Split from the network state so each file has one
 * reason to change; it holds no account state of its own.
 */

export interface TrafficCounters {
  /** Messages accepted by the network, from phones and sessions. */
  sent: number;
  /** Deliveries to a session that the session acked (once per message and device). */
  delivered: number;
  /** Message frames sent again for a message the device had already been sent. */
  redelivered: number;
  /** Deliveries that found the device offline and waited for its next connection. */
  queued: number;
  /** WebSocket connections accepted. */
  connections: number;
  /** Connections closed because another connection used the same credentials. */
  conflicts: number;
}

export type Traffic = ReturnType<typeof createTraffic>;

export function createTraffic(opts: { clock: Clock; duplicateDeliveries: boolean; logSize: number }) {
  const counters: TrafficCounters = { sent: 0, delivered: 0, redelivered: 0, queued: 0, connections: 0, conflicts: 0 };
  const log: ConnectionLogEntry[] = [];
  const open = new Map<string, ConnectionLogEntry>();

  function send(device: Device, msg: StoredMessage): void {
    const conn = device.conn;
    if (!conn) return;
    const attempts = device.pending.get(msg.id) ?? 0;
    device.pending.set(msg.id, attempts + 1);
    if (attempts > 0) counters.redelivered += 1;
    const frame = { type: 'message', message: toWire(msg), redelivery: attempts > 0 } as const;
    conn.send(frame);
    if (opts.duplicateDeliveries) {
      counters.redelivered += 1;
      conn.send({ ...frame, redelivery: true });
    }
  }

  return {
    counters,
    /** Hand `msg` to `device`: now if it is connected, else on its next connection. */
    deliver(device: Device, msg: StoredMessage): void {
      if (device.pending.has(msg.id)) return;
      device.pending.set(msg.id, 0);
      if (device.conn) send(device, msg);
      else counters.queued += 1;
    },
    redeliver(device: Device, msg: StoredMessage): void {
      // Count it as sent before, so the frame says `redelivery` and the counter moves.
      device.pending.set(msg.id, Math.max(1, device.pending.get(msg.id) ?? 0));
      send(device, msg);
    },
    acked(device: Device, id: string): void {
      if (device.pending.delete(id)) counters.delivered += 1;
    },
    /** Tell the sender's device about an ack change of its message; remembered while it is offline. */
    sendAck(device: Device, msg: StoredMessage): void {
      if (device.conn) device.conn.send({ type: 'ack', id: msg.id, chatId: chatIdOf(msg.to), ack: msg.ack });
      else device.pendingAcks.set(msg.id, msg.ack);
    },
    /** Everything the device missed: un-acked messages in order, then the latest ack of each message. */
    flush(device: Device, messages: ReadonlyMap<string, StoredMessage>): void {
      for (const id of [...device.pending.keys()]) {
        const msg = messages.get(id);
        if (msg) send(device, msg);
        else device.pending.delete(id);
      }
      const conn = device.conn;
      if (!conn) return;
      for (const [id, ack] of device.pendingAcks) {
        const msg = messages.get(id);
        if (msg) conn.send({ type: 'ack', id, chatId: chatIdOf(msg.to), ack });
      }
      device.pendingAcks.clear();
    },
    connectionStarted(connectionId: string, device: Device): void {
      const entry: ConnectionLogEntry = {
        connectionId,
        number: device.number,
        deviceId: device.id,
        from: new Date(opts.clock.now()).toISOString(),
        to: null,
        endReason: null,
      };
      open.set(connectionId, entry);
      log.push(entry);
      if (log.length > opts.logSize) log.shift();
    },
    connectionEnded(connectionId: string, reason: string): void {
      const entry = open.get(connectionId);
      if (!entry) return;
      open.delete(connectionId);
      entry.to = new Date(opts.clock.now()).toISOString();
      entry.endReason = reason;
    },
    log: (): ConnectionLogEntry[] => log.map((e) => ({ ...e })),
  };
}
