/** Walking decoded JSON requests alongside their message types. */
import type { DescField, DescMessage, JsonValue } from '@bufbuild/protobuf';
import { findJsonField, messageOf, reachesType } from './message-reach.js';

export type JsonObject = { [key: string]: JsonValue };

export const isJsonObject = (v: JsonValue): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The values of field `f` in `value` with the path of each, `here` being the field's own path: a
 * list's items (`here[i]`), a map's values (`here.key`), or the value itself.
 */
export function fieldItems(f: DescField, value: JsonValue, here: string): Array<[string, JsonValue]> {
  if (Array.isArray(value)) return value.map((v, i) => [`${here}[${i}]`, v]);
  if (f.fieldKind === 'map' && isJsonObject(value)) return Object.entries(value).map(([k, v]) => [`${here}.${k}`, v]);
  return [[here, value]];
}

/**
 * A check of some fields of decoded JSON requests, at any depth: the fields it looks at (`holds`),
 * and what it finds wrong in one (`find`, given the field's value and path). Most request types
 * have no such field anywhere below them, and are not walked.
 */
export interface FieldCheck<T> {
  holds(f: DescField): boolean;
  find(f: DescField, value: JsonValue, path: string): T | undefined;
}

const reaching = new WeakMap<FieldCheck<unknown>, WeakMap<DescMessage, boolean>>();

/** Whether a message type has a field `check` looks at anywhere below it (cached per check). */
function reaches(check: FieldCheck<unknown>, m: DescMessage): boolean {
  let byType = reaching.get(check);
  if (!byType) reaching.set(check, (byType = new WeakMap()));
  let holds = byType.get(m);
  if (holds === undefined) byType.set(m, (holds = reachesType(m, (d) => d.fields.some((f) => check.holds(f)))));
  return holds;
}

/** What `check` first finds wrong in `json` (already decoded as `schema`), its fields walked in order. */
export function firstInJson<T>(check: FieldCheck<T>, schema: DescMessage, json: JsonValue, path = ''): T | undefined {
  if (!isJsonObject(json) || !reaches(check, schema)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const f = findJsonField(schema, key);
    if (!f) continue;
    const here = path ? `${path}.${f.name}` : f.name;
    const found = check.holds(f) ? check.find(f, value, here) : undefined;
    if (found !== undefined) return found;
    const of = value === null ? undefined : messageOf(f);
    if (!of) continue;
    for (const [where, item] of fieldItems(f, value, here)) {
      const nested = firstInJson(check, of, item, where);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}
