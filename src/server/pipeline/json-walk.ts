/** Walking decoded JSON requests alongside their message types. */
import type { DescField, JsonValue } from '@bufbuild/protobuf';

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
