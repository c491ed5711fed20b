/**
 * The API as its own OpenAPI document describes it: the attack matrix and the fuzzer iterate these
 * operations, so a route added tomorrow is attacked and fuzzed without anyone listing it here.
 */

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  $ref?: string;
}

export interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface OperationObject {
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}

export interface ApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The OpenAPI path, e.g. `/api/chats/{chatId}/messages`. */
  path: string;
  /** `POST /api/chats/{chatId}/messages`: how failures name it. */
  name: string;
  protected: boolean;
  params: Parameter[];
  /** The JSON body schema, when the operation takes one. */
  jsonBody: JsonSchema | undefined;
  /** The multipart body schema, when the operation takes one. */
  multipartBody: JsonSchema | undefined;
  /** Statuses the document promises. */
  statuses: number[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export async function fetchDocument(inject: (url: string) => Promise<{ statusCode: number; body: string }>): Promise<ApiDocument> {
  const res = await inject('/api/docs/json');
  if (res.statusCode !== 200) throw new Error(`/api/docs/json answered ${res.statusCode}`);
  return JSON.parse(res.body) as ApiDocument;
}

export function operations(doc: ApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const upper = method.toUpperCase() as Operation['method'];
      const content = op.requestBody?.content ?? {};
      out.push({
        method: upper,
        path,
        name: `${upper} ${path}`,
        protected: (op.security ?? []).length > 0,
        params: (op.parameters ?? []).map((p) => ({ ...p, schema: resolve(doc, p.schema) })),
        jsonBody: content['application/json'] === undefined ? undefined : resolve(doc, content['application/json'].schema),
        multipartBody: content['multipart/form-data'] === undefined ? undefined : resolve(doc, content['multipart/form-data'].schema),
        statuses: Object.keys(op.responses).map(Number),
      });
    }
  }
  return out;
}

/** Inlines `$ref`s to components (the document is small and acyclic). */
export function resolve(doc: ApiDocument, schema: JsonSchema): JsonSchema {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (target === undefined) throw new Error(`unresolvable $ref ${schema.$ref}`);
    return resolve(doc, target);
  }
  const out: JsonSchema = { ...schema };
  if (schema.properties !== undefined) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(doc, v)]));
  }
  if (schema.items !== undefined) out.items = resolve(doc, schema.items);
  if (schema.anyOf !== undefined) out.anyOf = schema.anyOf.map((s) => resolve(doc, s));
  if (schema.oneOf !== undefined) out.oneOf = schema.oneOf.map((s) => resolve(doc, s));
  return out;
}

/** Fills `{name}` segments of an OpenAPI path, URL-encoding each value. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(value);
  });
}

/** A query string from values (undefined ones left out), with a leading `?` when not empty. */
export function queryString(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) params.append(k, v);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
