import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { assertNever, ErrorCodes, isAppError } from '../domain/errors.js';
import type { Logger } from '../domain/log.js';
import { rawText } from './client.js';
import type { Device, SessionConnection } from './model.js';
import type { Network } from './network.js';
import { ClientFrame, CloseCodes, MAX_FRAME_BYTES, parseFrame, WS_PATH, type ErrorReplyCode, type ServerFrame } from './protocol.js';

/**
 * The WebSocket side of the simulator: one socket per session, speaking the frames of protocol.ts.
 * A socket starts waiting for `hello`; without credentials it enters QR linking, with valid ones it is
 * attached to its device at once. The network decides everything else (delivery, conflicts, logout).
 */

export interface QrTimings {
  /** Validity of the first QR code (default 60 000 ms, as WhatsApp Web). */
  firstMs: number;
  /** Validity of each following QR code (default 20 000 ms). */
  nextMs: number;
  /** QR codes issued before linking fails with `qr_timeout` (default 6). */
  maxQrs: number;
}

export interface GatewayOptions {
  network: Network;
  qrTimings: QrTimings;
  log: Logger;
  /** A socket that sends no `hello` within this time is closed (default 10 000 ms). */
  helloTimeoutMs?: number;
  /** Called after each handled frame and each closed socket: the network may have changed. */
  onChange?: () => void;
}

type ConnState =
  | { kind: 'awaiting_hello' }
  | { kind: 'linking'; qr: string | null; timer: NodeJS.Timeout | null }
  | { kind: 'online'; device: Device }
  | { kind: 'ended' };

export type Gateway = ReturnType<typeof createGateway>;

export function createGateway(opts: GatewayOptions) {
  const { network, qrTimings, log } = opts;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  let nextId = 1;

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname;
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  }

  function onConnection(ws: WebSocket): void {
    network.noteConnection();
    let state: ConnState = { kind: 'awaiting_hello' };
    const send = (frame: ServerFrame): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    };
    const conn: SessionConnection = {
      id: `conn-${nextId++}`,
      send,
      end(frame, code) {
        stopLinking();
        state = { kind: 'ended' };
        send(frame);
        ws.close(code, frame.type);
      },
      terminate: () => ws.terminate(),
    };
    const helloTimer = setTimeout(() => ws.close(CloseCodes.HELLO_TIMEOUT, 'hello timeout'), opts.helloTimeoutMs ?? 10_000);

    function stopLinking(): void {
      if (state.kind !== 'linking') return;
      if (state.timer) clearTimeout(state.timer);
      if (state.qr !== null) network.withdrawQr(state.qr);
    }

    function attach(device: Device): void {
      stopLinking();
      state = { kind: 'online', device };
      network.attach(device, conn);
    }

    function issueQr(index: number): void {
      if (state.kind !== 'linking') return;
      // Shaped like WhatsApp's `ref,noiseKey,identityKey,advSecret`; only its identity matters here.
      const qr = `2@${[24, 32, 32, 32].map((n) => randomBytes(n).toString('base64')).join(',')}`;
      const validMs = index === 0 ? qrTimings.firstMs : qrTimings.nextMs;
      network.offerQr(qr, attach);
      state.qr = qr;
      send({ type: 'qr', qr, index, expiresInMs: validMs });
      state.timer = setTimeout(() => {
        network.withdrawQr(qr);
        if (state.kind === 'linking') state.qr = null;
        if (index + 1 < qrTimings.maxQrs) issueQr(index + 1);
        else conn.end({ type: 'link_failed', reason: 'qr_timeout' }, CloseCodes.LINK_FAILED);
      }, validMs);
    }

    function onHello(credentials: string | null): void {
      clearTimeout(helloTimer);
      if (credentials === null) {
        state = { kind: 'linking', qr: null, timer: null };
        issueQr(0);
        return;
      }
      const device = network.authenticate(credentials);
      if (device) attach(device);
      else conn.end({ type: 'logged_out', reason: 'invalid_credentials' }, CloseCodes.LOGGED_OUT);
    }

    function onFrame(frame: ClientFrame): void {
      if (frame.type === 'hello') {
        if (state.kind === 'awaiting_hello') onHello(frame.credentials);
        else ws.close(CloseCodes.INVALID_FRAME, 'hello twice');
        return;
      }
      if (state.kind !== 'online') {
        if ('reqId' in frame) send(errorReply(frame.reqId, 'not_ready', 'This session is not linked yet'));
        return;
      }
      handleOnline(state.device, conn, frame);
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (state.kind === 'ended') return;
      const frame = isBinary ? null : parseFrame(ClientFrame, rawText(data));
      if (!frame) {
        log.warn({ connectionId: conn.id }, 'invalid frame from session, closing');
        ws.close(CloseCodes.INVALID_FRAME, 'invalid frame');
        return;
      }
      onFrame(frame);
      opts.onChange?.();
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      stopLinking();
      if (state.kind === 'online') network.detach(state.device, conn, 'closed');
      state = { kind: 'ended' };
      opts.onChange?.();
    });
    ws.on('error', (err) => log.warn({ err, connectionId: conn.id }, 'session socket error'));
  }

  function handleOnline(device: Device, conn: SessionConnection, frame: Exclude<ClientFrame, { type: 'hello' }>): void {
    if (frame.type !== 'delivery.ack' && frame.type !== 'delivery.acks' && network.isStalled(device.number)) return; // test hook: swallowed
    switch (frame.type) {
      case 'delivery.ack':
        network.ackDelivery(device, frame.id);
        return;
      case 'delivery.acks':
        for (const id of frame.ids) network.ackDelivery(device, id);
        return;
      case 'req.send':
        try {
          network.sendFromDevice(device, frame.to, { body: frame.body, media: frame.media }, (m) =>
            conn.send({ type: 'res.send', reqId: frame.reqId, id: m.id, timestamp: m.timestamp }),
          );
        } catch (err) {
          if (!isAppError(err)) throw err;
          const code: ErrorReplyCode = err.code === ErrorCodes.NOT_FOUND ? 'not_found' : 'invalid';
          conn.send(errorReply(frame.reqId, code, err.message));
        }
        return;
      case 'req.profile_photo':
        conn.send({ type: 'res.profile_photo', reqId: frame.reqId, photo: network.photoOf(frame.chatId) });
        return;
      case 'req.media':
        conn.send({ type: 'res.media', reqId: frame.reqId, media: network.mediaOf(device.number, frame.messageId) });
        return;
      case 'req.logout':
        // Reply first: the logout itself ends the socket with `logged_out`.
        conn.send({ type: 'res.logout', reqId: frame.reqId });
        network.logout(device, 'logout');
        return;
      default:
        assertNever(frame, 'client frame');
    }
  }

  return {
    handleUpgrade,
    /** Drop every socket (sessions see a network failure) and stop accepting new ones. */
    close(): Promise<void> {
      for (const ws of wss.clients) ws.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}

function errorReply(reqId: number, code: ErrorReplyCode, message: string): ServerFrame {
  return { type: 'res.error', reqId, code, message };
}
