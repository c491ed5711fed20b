import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../lib/api.js';
import type { Message } from '../lib/schemas.js';
import { ackLabel } from '../lib/state.js';
import { formatTime, messageOf } from './ui.js';

/** Types previewed inline; others (documents, "other") get a download button. */
const PREVIEWED = new Set<Message['type']>(['image', 'sticker', 'video', 'audio']);

/** One bubble: text, media, time and (for ours) the delivery state. */
export function MessageItem({ api, message }: { api: Api; message: Message }) {
  const ack = ackLabel(message.ack);
  return (
    <li class={`msg ${message.fromMe ? 'out' : 'in'}`} data-message-id={message.id}>
      {message.hasMedia && <Media api={api} message={message} />}
      {message.body.length > 0 && <p class="msg-body">{message.body}</p>}
      <span class="msg-meta">
        <time dateTime={message.timestamp}>{formatTime(message.timestamp)}</time>
        {message.fromMe && (
          <span class={`ack ack-${message.ack}`} title={ack.label} data-ack={message.ack}>
            <span aria-hidden="true">{ack.mark}</span>
            <span class="sr-only">{ack.label}</span>
          </span>
        )}
      </span>
    </li>
  );
}

type MediaState =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ready'; url: string; filename: string | null }
  | { kind: 'error'; text: string };

/**
 * Media bytes need the bearer token, so they are fetched and shown from a blob: URL (the console's CSP
 * allows blob: for images and media), revoked when the bubble goes away. Previews load at once; other
 * files only when asked.
 */
function Media({ api, message }: { api: Api; message: Message }) {
  const [state, setState] = useState<MediaState>({ kind: 'idle' });
  const preview = PREVIEWED.has(message.type);

  const load = async (): Promise<{ url: string; filename: string | null } | null> => {
    setState({ kind: 'loading' });
    try {
      const file = await api.file(`/api/media/${encodeURIComponent(message.id)}`);
      if (file === null) {
        setState({ kind: 'error', text: 'File not available' });
        return null;
      }
      const ready = { kind: 'ready', url: URL.createObjectURL(file.blob), filename: file.filename } as const;
      setState(ready);
      return ready;
    } catch (err) {
      setState({ kind: 'error', text: messageOf(err) });
      return null;
    }
  };

  useEffect(() => {
    if (preview) void load();
    // Only on mount: a message's media never changes.
  }, []);

  useEffect(() => () => {
    if (state.kind === 'ready') URL.revokeObjectURL(state.url);
  }, [state]);

  const label = `${message.type} from ${formatTime(message.timestamp)}`;
  const download = async (): Promise<void> => {
    const file = state.kind === 'ready' ? state : await load();
    if (file === null) return;
    const link = document.createElement('a');
    link.href = file.url;
    link.download = file.filename ?? fileName(message);
    link.click();
  };

  return (
    <div class="media">
      {state.kind === 'ready' && (message.type === 'image' || message.type === 'sticker') && (
        <img src={state.url} alt={message.body.length > 0 ? message.body : `Image (${label})`} />
      )}
      {state.kind === 'ready' && message.type === 'video' && <video src={state.url} controls aria-label={`Video (${label})`} />}
      {state.kind === 'ready' && message.type === 'audio' && <audio src={state.url} controls aria-label={`Audio (${label})`} />}
      {state.kind === 'loading' && <span class="muted small">Loading {message.type}…</span>}
      {state.kind === 'error' && <span class="error small">{state.text}</span>}
      <button type="button" class="link small" onClick={() => void download()}>
        Download {message.type === 'chat' ? 'file' : message.type}
      </button>
    </div>
  );
}

const EXTENSIONS: Partial<Record<Message['type'], string>> = { image: 'jpg', sticker: 'webp', video: 'mp4', audio: 'ogg' };

function fileName(message: Message): string {
  const ext = EXTENSIONS[message.type];
  const base = `whatsapp-${message.id.replace(/[^\w-]/g, '').slice(0, 32)}`;
  return ext === undefined ? base : `${base}.${ext}`;
}
