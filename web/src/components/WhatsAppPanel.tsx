import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../lib/api.js';
import type { Bus } from '../lib/bus.js';
import type { LiveEvent } from '../lib/realtime.js';
import { DemoConfig, WhatsappStatus, type SessionStatus } from '../lib/schemas.js';
import { PairingCodeForm } from './PairingCodeForm.js';
import { SimulatorPanel } from './SimulatorPanel.js';
import { messageOf } from './ui.js';

export interface WhatsappState {
  /** null until the first answer. */
  status: SessionStatus | null;
  reason: string | null;
  /** The QR to scan (a PNG data URL) while the status is `qr`. */
  qr: string | null;
  pairingCode: string | null;
  demo: DemoConfig | null;
  error: string | null;
  busy: boolean;
  init(): Promise<void>;
  logout(): Promise<void>;
}

/**
 * The tenant's WhatsApp session as the admin sees it: the stored status, then every `session_status`,
 * `qr` and `pairing_code` event. Lives in the console (not the panel), so a QR that arrives while the
 * admin looks at chats is there when the panel opens.
 */
export function useWhatsapp(api: Api, bus: Bus<LiveEvent>, enabled: boolean): WhatsappState {
  const [status, setStatus] = useState<SessionStatus | null>(null);
  const [reason, setReason] = useState<string | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [pairingCode, setPairingCode] = useState<string | null>(null);
  const [demo, setDemo] = useState<DemoConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /**
   * Counts live session events. A REST answer is a snapshot that may be older than an event that came
   * while it travelled (init answers `starting` after the first `qr` arrived): it is dropped then.
   */
  const liveSeq = useRef(0);

  const apply = useCallback((next: SessionStatus, why: string | null | undefined) => {
    setStatus(next);
    setReason(why ?? null);
    if (next !== 'qr') {
      setQr(null);
      setPairingCode(null);
    }
  }, []);

  const load = useCallback(async () => {
    const seq = liveSeq.current;
    try {
      const answer = await api.json('/api/whatsapp/status', WhatsappStatus);
      if (seq === liveSeq.current) apply(answer.status, answer.reason);
    } catch (err) {
      // No session was ever started for this tenant.
      if (err instanceof ApiError && err.status === 404) {
        if (seq === liveSeq.current) apply('stopped', null);
      } else setError(messageOf(err));
    }
  }, [api, apply]);

  useEffect(() => {
    if (!enabled) return;
    void load();
    api.json('/api/demo/config', DemoConfig).then(setDemo, () => setDemo(null));
  }, [api, enabled, load]);

  useEffect(() => {
    if (!enabled) return undefined;
    return bus.subscribe((event) => {
      switch (event.type) {
        case 'ready':
          void load();
          return;
        case 'session_status':
          liveSeq.current++;
          apply(event.status.status, event.status.reason);
          return;
        case 'qr':
          liveSeq.current++;
          setStatus('qr');
          setQr(event.dataUrl);
          return;
        case 'pairing_code':
          liveSeq.current++;
          setPairingCode(event.code);
          return;
        default:
          return;
      }
    });
  }, [bus, enabled, load, apply]);

  const command = (path: string) => async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await api.empty(path, { method: 'POST', body: {} });
      await load();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return { status, reason, qr, pairingCode, demo, error, busy, init: command('/api/whatsapp/init'), logout: command('/api/whatsapp/logout') };
}

const STATUS_TEXT: Record<SessionStatus, string> = {
  stopped: 'Not linked',
  starting: 'Starting…',
  qr: 'Waiting for a scan',
  connected: 'Connected',
  disconnected: 'Disconnected; reconnecting',
  logged_out: 'Logged out',
  failed: 'Failed',
};

export function statusText(status: SessionStatus | null): string {
  return status === null ? 'Checking…' : STATUS_TEXT[status];
}

/** Link the tenant's WhatsApp: start, scan the QR (or type the pairing code), see the status live, log out. */
export function WhatsAppPanel({ api, state }: { api: Api; state: WhatsappState }) {
  const { status } = state;
  const running = status === 'starting' || status === 'qr' || status === 'connected' || status === 'disconnected';
  return (
    <main class="page">
      <section class="card" aria-labelledby="wa-title">
        <h1 id="wa-title">WhatsApp</h1>
        <p>
          Status:{' '}
          <strong class={`status status-${status ?? 'unknown'}`} data-testid="wa-status" role="status" aria-live="polite">
            {statusText(status)}
          </strong>
          {state.reason !== null && <span class="muted"> ({state.reason})</span>}
        </p>
        {state.error !== null && (
          <p class="error" role="alert">
            {state.error}
          </p>
        )}
        {status === 'qr' && state.qr !== null && (
          <figure class="qr">
            <img src={state.qr} alt="QR code to scan with WhatsApp on your phone" data-testid="wa-qr" />
            <figcaption>
              On your phone open WhatsApp, then <em>Settings → Linked devices → Link a device</em>, and scan this code. It
              changes every few seconds.
            </figcaption>
          </figure>
        )}
        {/* Pairing codes come from the real engine; the sandbox links by QR (its panel scans it). */}
        {status === 'qr' && state.demo === null && <PairingCodeForm api={api} />}
        {state.pairingCode !== null && (
          <p>
            Or enter this code on your phone: <strong class="pairing">{state.pairingCode}</strong>
          </p>
        )}
        <div class="actions">
          {!running && (
            <button type="button" class="primary" disabled={state.busy} onClick={() => void state.init()}>
              Link WhatsApp
            </button>
          )}
          {running && (
            <button type="button" class="danger" disabled={state.busy} onClick={() => void state.logout()}>
              Log out of WhatsApp
            </button>
          )}
        </div>
      </section>
      {state.demo !== null && <SimulatorPanel api={api} simulatorUrl={state.demo.simulatorUrl} qr={state.qr} />}
      <p class="muted small">
        API: <a href="/api/docs">/api/docs</a> · signed-in as an admin of this tenant ({api.current()?.user.email})
      </p>
    </main>
  );
}
