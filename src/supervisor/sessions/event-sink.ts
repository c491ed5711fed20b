/**
 * Where a node publishes tenant events after they are stored (the realtime channel implements it). A
 * `chatId` limits the event to the tenant's admins and the employees assigned to that chat; without it
 * only admins get it. Defined here so the supervisor layer never imports http.
 */
export type TenantEventName = 'qr' | 'session_status' | 'message' | 'message_ack' | 'chat_updated' | 'pairing_code';

export interface TenantEvent {
  name: TenantEventName;
  chatId?: string;
  payload: unknown;
}

export interface EventSink {
  publish(tenantId: string, event: TenantEvent): void;
}
