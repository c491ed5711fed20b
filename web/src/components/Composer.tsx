import { Value } from '@sinclair/typebox/value';
import { useRef, useState } from 'preact/hooks';
import type { Api } from '../lib/api.js';
import { SentMessage, type Message } from '../lib/schemas.js';
import { messageOf } from './ui.js';

/** A key per send, so a retried request (a flaky network) sends one message, not two. */
function idempotencyKey(): string {
  // randomUUID needs a secure context; a console opened over plain http on a LAN address has none.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Text and a file attachment. Enter sends, Shift+Enter starts a new line. The sent message is shown from
 * the server's answer (and the live event dedupes onto it by id).
 */
export function Composer({ api, chatId, onSent }: { api: Api; chatId: string; onSent: (message: Message) => void }) {
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const textInput = useRef<HTMLTextAreaElement>(null);

  const send = async (): Promise<void> => {
    const body = text.trim();
    if (busy || (body.length === 0 && file === null)) return;
    setBusy(true);
    setError(null);
    let payload: unknown;
    if (file === null) payload = { body };
    else {
      const form = new FormData();
      if (body.length > 0) form.append('body', body);
      form.append('file', file, file.name);
      payload = form;
    }
    try {
      const answer = await api.unknownJson(`/api/chats/${encodeURIComponent(chatId)}/messages`, {
        method: 'POST',
        body: payload,
        headers: { 'idempotency-key': idempotencyKey() },
      });
      if (Value.Check(SentMessage, answer)) onSent(answer);
      setText('');
      setFile(null);
      if (fileInput.current !== null) fileInput.current.value = '';
      textInput.current?.focus();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {file !== null && (
        <p class="attachment">
          Attached: <strong>{file.name}</strong>{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              setFile(null);
              if (fileInput.current !== null) fileInput.current.value = '';
            }}
          >
            Remove
          </button>
        </p>
      )}
      <div class="composer-row">
        <label class="attach" title="Attach a file">
          <svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2">
            <path d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7L14 4.5a3.5 3.5 0 0 1 5 5L10.5 18a2 2 0 0 1-3-3L15 7.5" />
          </svg>
          <span class="sr-only">Attach a file</span>
          <input ref={fileInput} type="file" class="sr-only" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <label for="composer-text" class="sr-only">
          Message
        </label>
        <textarea
          id="composer-text"
          ref={textInput}
          rows={1}
          placeholder="Type a message"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={busy}>
          Send
        </button>
      </div>
    </form>
  );
}
