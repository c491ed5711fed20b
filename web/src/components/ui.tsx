import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Api } from '../lib/api.js';

/** A human sentence for any failure; the server's messages are written to be shown. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong';
}

let fieldSeq = 0;

export interface FieldProps {
  label: string;
  name: string;
  value: string;
  onInput: (value: string) => void;
  type?: 'text' | 'email' | 'password' | 'tel';
  autocomplete?: string;
  required?: boolean;
  minLength?: number;
  hint?: string | undefined;
  placeholder?: string;
  pattern?: string;
}

/** A labelled input: the label is a real <label for>, the hint is tied with aria-describedby. */
export function Field(props: FieldProps) {
  const [id] = useState(() => `f${++fieldSeq}-${props.name}`);
  const hintId = props.hint === undefined ? undefined : `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        // Preact types `role` per input type; a plain string cast keeps one element for every kind.
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        autocomplete={props.autocomplete}
        required={props.required}
        minLength={props.minLength}
        placeholder={props.placeholder}
        pattern={props.pattern}
        aria-describedby={hintId}
      />
      {hintId !== undefined && (
        <small id={hintId} class="muted">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** Initials shown when a contact has no profile photo. */
function initials(name: string): string {
  const words = name.replace(/@.*$/, '').trim().split(/\s+/).filter((w) => w.length > 0);
  const letters = words.length >= 2 ? `${words[0]?.[0] ?? ''}${words[1]?.[0] ?? ''}` : (words[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

/**
 * Profile photos, fetched once per chat and page load with the bearer token (an <img src> cannot send
 * it). A 404 (no photo) or a failure is remembered as "none", so the list does not refetch on render.
 */
const photoCache = new Map<string, Promise<string | null>>();

function profilePhoto(api: Api, chatId: string): Promise<string | null> {
  let cached = photoCache.get(chatId);
  if (cached === undefined) {
    cached = api.file(`/api/media/profile-photo/${encodeURIComponent(chatId)}`).then(
      (file) => (file === null || !file.blob.type.startsWith('image/') ? null : URL.createObjectURL(file.blob)),
      () => null,
    );
    photoCache.set(chatId, cached);
  }
  return cached;
}

/** The chat's profile photo, or its initials. Decorative: the name is always shown beside it. */
export function Avatar({ api, chatId, name }: { api: Api; chatId: string; name: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void profilePhoto(api, chatId).then((url) => {
      if (live) setSrc(url);
    });
    return () => {
      live = false;
    };
  }, [api, chatId]);
  return src === null ? (
    <span class="avatar" aria-hidden="true">
      {initials(name)}
    </span>
  ) : (
    <img class="avatar" src={src} alt="" />
  );
}

export function formatTime(iso: string | null): string {
  if (iso === null) return '';
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { day: 'numeric', month: 'short' });
}
