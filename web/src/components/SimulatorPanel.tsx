import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { useState } from 'preact/hooks';
import type { Api } from '../lib/api.js';
import { Field, messageOf } from './ui.js';

/**
 * The demo's "simulate phone" panel (only with the sandbox engine, which GET /api/demo/config reveals):
 * drives the simulator's phone API through the server's admin-only /api/demo routes. Subsets of
 * src/simulator's schemas: that module compiles its checks with `new Function`, which this page's CSP
 * forbids.
 */
const PhoneView = Type.Object({ number: Type.String(), linked: Type.Boolean() });
const Sent = Type.Object({ id: Type.String() });

/** Reads the QR the way a phone camera would: from the pixels of the image on screen. */
async function decodeQr(dataUrl: string): Promise<string> {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('This browser cannot read images');
  context.drawImage(image, 0, 0);
  const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
  // Loaded on first scan only: the decoder is larger than the rest of the console together.
  const { default: jsQR } = await import('jsqr');
  const code = jsQR(data, width, height);
  if (code === null) throw new Error('No QR code found in the image');
  return code.data;
}

export function SimulatorPanel({ api, simulatorUrl, qr }: { api: Api; simulatorUrl: string; qr: string | null }) {
  const [phone, setPhone] = useState('4915550000');
  const [contact, setContact] = useState('4915550101');
  const [contactName, setContactName] = useState('Alice');
  const [text, setText] = useState('Hello! Is my order ready?');
  const [log, setLog] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const run = async (what: string, action: () => Promise<string>): Promise<void> => {
    setBusy(true);
    try {
      const done = await action();
      setLog((lines) => [done, ...lines].slice(0, 8));
    } catch (err) {
      setLog((lines) => [`${what} failed: ${messageOf(err)}`, ...lines].slice(0, 8));
    } finally {
      setBusy(false);
    }
  };

  const ensurePhone = async (number: string, name: string): Promise<void> => {
    const view = await api.unknownJson('/api/demo/phones', { method: 'POST', body: { number, name } });
    if (!Value.Check(PhoneView, view)) throw new Error('unexpected answer');
  };

  const scan = (): Promise<void> =>
    run('Scanning', async () => {
      if (qr === null) throw new Error('there is no QR on screen: press "Link WhatsApp" first');
      await ensurePhone(phone, 'My business phone');
      await api.empty(`/api/demo/phones/${phone}/link`, { method: 'POST', body: { qr: await decodeQr(qr) } });
      return `Phone ${phone} scanned the QR.`;
    });

  const send = (event: Event): Promise<void> => {
    event.preventDefault();
    return run('Sending', async () => {
      await ensurePhone(contact, contactName);
      const sent = await api.unknownJson(`/api/demo/phones/${contact}/messages`, { method: 'POST', body: { to: phone, body: text } });
      if (!Value.Check(Sent, sent)) throw new Error('unexpected answer');
      return `${contactName} (${contact}) sent “${text}” to ${phone}.`;
    });
  };

  return (
    <section class="card sim" aria-labelledby="sim-title">
      <h2 id="sim-title">Simulate a phone</h2>
      <p class="muted">
        The sandbox engine talks to a simulated WhatsApp network at <code>{simulatorUrl}</code>. Use it to try the whole
        loop without a real phone.
      </p>
      <Field label="Your business phone number" name="sim-phone" type="tel" value={phone} onInput={setPhone} pattern="[0-9]{5,15}" hint="5 to 15 digits." />
      <button type="button" class="primary" disabled={busy || qr === null} onClick={() => void scan()}>
        Scan the QR with this phone
      </button>
      <form onSubmit={(e) => void send(e)} aria-labelledby="sim-send-title">
        <h3 id="sim-send-title">A contact writes to you</h3>
        <Field label="Contact number" name="sim-contact" type="tel" value={contact} onInput={setContact} pattern="[0-9]{5,15}" />
        <Field label="Contact name" name="sim-contact-name" value={contactName} onInput={setContactName} />
        <Field label="Message" name="sim-text" value={text} onInput={setText} required />
        <button type="submit" disabled={busy}>
          Send from the contact
        </button>
      </form>
      <ul class="sim-log" aria-live="polite" aria-label="Simulator activity">
        {log.map((line, i) => (
          <li key={`${i}-${line}`}>{line}</li>
        ))}
      </ul>
    </section>
  );
}
