import { Type } from '@sinclair/typebox';
import { Message } from '../../../domain/types.js';

export const MediaParams = Type.Object({ messageId: Message.properties.id });

/** Raw bytes; documented per media type since the Content-Type is the file's own. */
export const MediaBytes = {
  description: 'The file, with its own Content-Type and a Content-Disposition naming it.',
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
} as const;
