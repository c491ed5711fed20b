import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../domain/errors.js';
import type { Sql, TxSql } from './db.js';
import { sqlState, storableText } from './db.js';
import { checkFence } from './fence.js';
import type { MediaRecord, MediaRepo, NewMedia } from './types.js';
import { parseRow, withTenant } from './with-tenant.js';

const MediaRow = Type.Object({
  wa_message_id: Type.String(),
  mimetype: Type.String(),
  filename: Type.Union([Type.String(), Type.Null()]),
  size_bytes: Type.Integer({ minimum: 0 }),
  sha256: Type.String(),
  data: Type.Uint8Array(),
});

/**
 * Stores (or replaces) a message's media inside the caller's transaction: `messages.insertMany` writes
 * a message and its bytes in one transaction, so a failed write (a full disk) leaves neither behind.
 */
export async function writeMedia(tx: TxSql, tenantId: string, media: NewMedia): Promise<void> {
  const bytes = Buffer.from(media.data.buffer, media.data.byteOffset, media.data.byteLength);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await tx`
    INSERT INTO media (tenant_id, wa_message_id, mimetype, filename, size_bytes, sha256, data)
    VALUES (${tenantId}, ${media.messageId}, ${media.mimetype}, ${media.filename === null ? null : storableText(media.filename)}, ${bytes.byteLength}, ${sha256}, ${bytes})
    ON CONFLICT (tenant_id, wa_message_id) DO UPDATE SET
      mimetype = EXCLUDED.mimetype, filename = EXCLUDED.filename, size_bytes = EXCLUDED.size_bytes,
      sha256 = EXCLUDED.sha256, data = EXCLUDED.data`;
  await tx`
    UPDATE messages SET has_media = true
    WHERE tenant_id = ${tenantId} AND wa_message_id = ${media.messageId} AND NOT has_media`;
}

export function createMediaRepo(sql: Sql): MediaRepo {
  return {
    /** Stores (or replaces) a message's media; size and SHA-256 are computed here. Unknown message -> NotFoundError. */
    async put(tenantId, media, fence) {
      try {
        await withTenant(sql, tenantId, async (tx) => {
          await checkFence(tx, tenantId, fence);
          await writeMedia(tx, tenantId, media);
        });
      } catch (err) {
        if (sqlState(err) === '23503') throw new NotFoundError('Message');
        throw err;
      }
    },

    async get(tenantId, messageId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT wa_message_id, mimetype, filename, size_bytes, sha256, data
          FROM media WHERE tenant_id = ${tenantId} AND wa_message_id = ${messageId}`;
        const row = parseRow(MediaRow, rows, 'media');
        if (row === null) return null;
        const record: MediaRecord = {
          messageId: row.wa_message_id,
          mimetype: row.mimetype,
          filename: row.filename,
          sizeBytes: row.size_bytes,
          sha256: row.sha256,
          data: row.data,
        };
        return record;
      });
    },
  };
}
