import { Type } from '@sinclair/typebox';
import { ChatId, Uuid } from '../../../domain/types.js';

export const PermissionBody = Type.Object({ employeeId: Uuid, chatId: ChatId }, { additionalProperties: false });

export const PermissionQuery = Type.Object({
  employeeId: Type.Optional(Type.String({ ...Uuid, description: 'Only this employee\'s permissions.' })),
});

export const Permission = Type.Object(
  { employeeId: Uuid, chatId: ChatId, grantedAt: Type.String({ format: 'date-time' }) },
  { title: 'Permission' },
);

export const PermissionList = Type.Array(Permission);
