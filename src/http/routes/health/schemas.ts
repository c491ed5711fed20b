import { Type } from '@sinclair/typebox';

export const HealthStatus = Type.Object({ status: Type.Literal('ok') }, { title: 'HealthStatus' });
