import type WAWebJS from 'whatsapp-web.js';
import type { LeveledLog } from '../../domain/log.js';
import type { DisconnectReason, EngineAccount, EngineEvent, EngineState } from './engine.js';
import { backfillHistory, type BackfillLimits } from './wwebjs-backfill.js';
import type { WwebjsEventArgs, WwebjsEventName } from './wwebjs-library.js';
import { ackOf, disconnectReasonOf, engineStateOf, mediaInfoOf, rawChatIdOf } from './wwebjs-mapping.js';
import type { WwebjsRun } from './wwebjs-run.js';

/**
 * whatsapp-web.js client events -> Engine events. Handlers run synchronously when the client emits
 * (to record state RemoteAuth is about to act on) and put the rest on the engine's queue, so listeners
 * see events one at a time, in order.
 */

/** What the engine lends the handlers of one run. */
export interface RunEvents {
  /** False once the run is torn down or replaced: its late events are dropped. */
  isCurrent(): boolean;
  enqueue(task: () => Promise<void>): void;
  emit(event: EngineEvent): Promise<void>;
  transition(state: EngineState): Promise<void>;
  log: LeveledLog;
  backfill: BackfillLimits;
  /** Records the login and returns the credentials marker to report. */
  onAuthenticated(): string;
  onReady(): void;
  /** The client ended for a reason that needs a decision (logout, conflict, QR timeout ...). */
  onTerminal(why: { reason: DisconnectReason; detail: string }): Promise<void>;
}

function meOf(info: WAWebJS.ClientInfo | undefined): EngineAccount {
  const wid = info?.wid;
  return { number: wid?.user ?? '', name: info?.pushname ?? '' };
}

export function attachClientEvents(run: WwebjsRun, ev: RunEvents): void {
  const { client } = run;
  const on = <K extends WwebjsEventName>(name: K, handler: (...args: WwebjsEventArgs[K]) => void): void => {
    client.on(name, (...args: WwebjsEventArgs[K]) => {
      if (ev.isCurrent()) handler(...args);
    });
  };

  on('qr', (qr) =>
    ev.enqueue(async () => {
      await ev.transition('qr');
      await ev.emit({ type: 'qr', qr, index: run.qrIndex++, expiresInMs: null });
    }),
  );
  // The code itself is returned by requestPairingCode; never logged (it links the account).
  on('code', () => ev.log.info('pairing code issued'));
  on('authenticated', () =>
    ev.enqueue(async () => {
      await ev.emit({ type: 'authenticated', credentials: ev.onAuthenticated() });
    }),
  );
  on('auth_failure', (message) => void ev.onTerminal({ reason: 'logged_out', detail: `the stored session was rejected: ${message}` }));
  on('ready', () => ev.enqueue(() => onReady(run, ev)));
  // `message` is whatsapp-web.js' inbound subset of `message_create`; own messages (typed on the phone
  // or sent through us) come only as `message_create`.
  on('message', (msg) => {
    if (!msg.fromMe) ev.enqueue(() => deliver(run, ev, msg));
  });
  on('message_create', (msg) => {
    if (msg.fromMe) ev.enqueue(() => deliver(run, ev, msg));
  });
  on('message_ack', (msg, ack) => {
    if (!msg.fromMe) return;
    ev.enqueue(async () => {
      const chatId = await run.ids.resolve(rawChatIdOf(msg));
      if (chatId !== null) await ev.emit({ type: 'message_ack', id: msg.id._serialized, chatId, ack: ackOf(ack) });
    });
  });
  // The Engine has no revoke event yet; the message stays as it was stored.
  on('message_revoke_everyone', (msg) => ev.log.info({ messageId: msg.id._serialized }, 'message revoked for everyone'));
  on('change_state', (state) => {
    // Synchronously: RemoteAuth consults it (mayDelete) before whatsapp-web.js emits `disconnected`.
    run.lastWaState = state;
    const mapped = engineStateOf(state);
    if (mapped !== null) ev.enqueue(() => ev.transition(mapped));
  });
  on('disconnected', (reason) => {
    if (reason === 'LOGOUT') run.unlinked = true;
    void ev.onTerminal(disconnectReasonOf(reason));
  });
}

async function onReady(run: WwebjsRun, ev: RunEvents): Promise<void> {
  run.ready = true;
  const me = meOf(run.client.info);
  try {
    const done = await backfillHistory(run.client, run.ids, ev.backfill, (chats, messages) => ev.emit({ type: 'chats', chats, messages }), ev.log);
    ev.log.info(done, 'history backfill done');
  } catch (err) {
    // The session works without history; the next ready (after a reconnect) tries again.
    ev.log.warn({ err }, 'history backfill failed');
  }
  ev.onReady();
  await ev.transition('connected');
  await ev.emit({ type: 'ready', me });
}

async function deliver(run: WwebjsRun, ev: RunEvents, msg: WAWebJS.Message): Promise<void> {
  const message = await run.ids.message(msg);
  if (message === null) {
    ev.log.debug({ type: msg.type }, 'message outside a person or group chat skipped');
    return;
  }
  try {
    await ev.emit({ type: 'message', message, media: mediaInfoOf(msg), redelivery: false });
  } catch (err) {
    // WhatsApp Web has already acknowledged it; the next history backfill brings it back if recent.
    ev.log.warn({ err, messageId: message.id }, 'message listener failed');
  }
}
