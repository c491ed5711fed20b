import { useState } from 'preact/hooks';
import { Type } from '@sinclair/typebox';
import type { Api } from '../lib/api.js';
import { messageOf } from './ui.js';

const PairingCodeView = Type.Object({ code: Type.String() });

/**
 * Link by phone number instead of a QR (the real engine only): the server asks WhatsApp for a code that
 * the user types on the phone under Linked devices → Link with phone number instead.
 */
export function PairingCodeForm({ api }: { api: Api }) {
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.json('/api/whatsapp/pairing-code', PairingCodeView, { method: 'POST', body: { phone: phone.replace(/\D/g, '') } });
      setCode(answer.code);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="pairing-form" onSubmit={(e) => void submit(e)}>
      <label for="pairing-phone">Or link with your phone number (digits with country code)</label>
      <input
        id="pairing-phone"
        inputMode="numeric"
        autoComplete="tel"
        pattern="[0-9 +\(\)\-]{6,20}"
        required
        value={phone}
        onInput={(e) => setPhone((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={busy}>
        Get a pairing code
      </button>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {code !== null && (
        <p role="status">
          Type this code on your phone: <strong class="pairing">{code}</strong>
        </p>
      )}
    </form>
  );
}
