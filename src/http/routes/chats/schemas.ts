import { Type } from '@sinclair/typebox';
import { Chat, ChatId, Message } from '../../../domain/types.js';

export const ChatList = Type.Array(Type.Composite([Chat], { title: 'Chat' }));

export const ChatParams = Type.Object({ chatId: ChatId });

export const MessagePageQuery = Type.Object({
  before: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: '`nextCursor` of the previous page.' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Messages per page.' }),
});

export const MessagePage = Type.Object(
  {
    messages: Type.Array(Type.Composite([Message], { title: 'Message' }), { description: 'Newest first.' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `before` for older messages; null at the end.' }),
  },
  { title: 'MessagePage' },
);
