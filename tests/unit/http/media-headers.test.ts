import { describe, expect, it } from 'vitest';
import { contentDisposition, safeContentType } from '../../../src/http/routes/media/headers.js';

describe('media response headers', () => {
  it('keeps a well-formed content type, parameters included', () => {
    expect(safeContentType('image/jpeg')).toBe('image/jpeg');
    expect(safeContentType('audio/ogg; codecs=opus')).toBe('audio/ogg; codecs=opus');
  });

  it('replaces a malformed or header-breaking content type with octet-stream', () => {
    expect(safeContentType('')).toBe('application/octet-stream');
    expect(safeContentType('jpeg')).toBe('application/octet-stream');
    expect(safeContentType('text/html\r\nSet-Cookie: a=b')).toBe('application/octet-stream');
  });

  it('always answers attachment, with an ASCII name and the full UTF-8 name', () => {
    expect(contentDisposition(null)).toBe('attachment');
    expect(contentDisposition('report.pdf')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(contentDisposition('Grüße "1".txt')).toBe(
      `attachment; filename="Gr__e _1_.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%221%22.txt`,
    );
  });

  it('drops path parts and control characters from the name', () => {
    expect(contentDisposition('../../etc/passwd')).toBe(`attachment; filename="passwd"; filename*=UTF-8''passwd`);
    expect(contentDisposition('a\r\nb.txt')).toBe(`attachment; filename="ab.txt"; filename*=UTF-8''ab.txt`);
    expect(contentDisposition('C:\\Users\\x\\')).toBe('attachment');
  });
});
