/**
 * Header values built from stored media metadata. The metadata comes from WhatsApp senders, so it is
 * untrusted: a bad Content-Type becomes octet-stream, and the filename is reduced to what a header
 * may carry (RFC 6266 `filename` plus RFC 5987 `filename*` for the full UTF-8 name).
 */

const MIME = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;[\x20-\x7e]*)?$/;

export function safeContentType(mimetype: string): string {
  const value = mimetype.trim();
  return MIME.test(value) ? value : 'application/octet-stream';
}

function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Always `attachment`: stored media must never render as a page of this origin. */
export function contentDisposition(filename: string | null): string {
  // Path parts and control characters are dropped; what is left names the download only.
  const base = (filename ?? '').split(/[/\\]/).pop() ?? '';
  const name = Array.from(base)
    .filter((c) => c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f)
    .join('')
    .trim();
  if (name === '') return 'attachment';
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}
