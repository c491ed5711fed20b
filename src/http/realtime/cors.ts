/**
 * Socket.IO's `cors.origin` from the CORS_ORIGINS setting: `*` allows any origin (also `null`, a page
 * opened from disk); otherwise the exact origins listed (list `null` to allow pages opened from disk).
 */
export function corsOrigin(setting: string): string | string[] {
  const origins = setting
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  return origins.length === 0 || origins.includes('*') ? '*' : origins;
}
