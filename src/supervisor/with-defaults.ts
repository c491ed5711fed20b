/**
 * `{ ...defaults, ...overrides }`, except that an override explicitly set to `undefined` keeps the
 * default (options built from optional config fields carry such keys).
 */
export function withDefaults<T extends object>(defaults: Readonly<T>, overrides: Partial<T> | undefined): T {
  const result = { ...defaults };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value !== undefined) (result as Record<string, unknown>)[key] = value;
  }
  return result;
}
