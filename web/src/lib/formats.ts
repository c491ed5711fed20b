import { FormatRegistry } from '@sinclair/typebox';

/**
 * TypeBox's `Value.Check` rejects a string with an unknown `format`, and the server's schemas use these
 * three. The server validated the values already; here the checks only have to be sane, not RFC-exact.
 */
const FORMATS: Record<string, (value: string) => boolean> = {
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  'date-time': (v) => !Number.isNaN(Date.parse(v)),
  email: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
};

/** Registers the formats once; called by main.tsx before anything validates. */
export function registerFormats(): void {
  for (const [name, check] of Object.entries(FORMATS)) {
    if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
  }
}
