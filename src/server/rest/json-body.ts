/**
 * A REST request body as a request message. protobuf-es says what failed to decode but not where;
 * on failure the body is decoded field by field to name the field (`events[2].operation`).
 */
import { fromJson, type DescField, type DescMessage, type JsonValue, type Message } from '@bufbuild/protobuf';
import { invalidArgument } from '../../core/errors.js';
import { findField } from './query.js';

type JsonObject = { [key: string]: JsonValue };

const isObject = (v: JsonValue): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

function decodes(schema: DescMessage, json: JsonValue): boolean {
  try {
    fromJson(schema, json);
    return true;
  } catch {
    return false;
  }
}

function enumChoices(f: DescField): string | undefined {
  const e = f.fieldKind === 'enum' ? f.enum : (f.fieldKind === 'list' || f.fieldKind === 'map') && f.enum ? f.enum : undefined;
  return e ? `expected one of ${e.values.filter((v) => v.number !== 0).map((v) => v.name).join(', ')}` : undefined;
}

/** Path and reason of the first part of `json` that does not decode as `schema`. */
function locate(schema: DescMessage, json: JsonValue, path: string): { path: string; reason?: string } {
  if (!isObject(json)) return { path: path || 'request body', reason: `must be a JSON object for ${schema.typeName}` };
  for (const [key, value] of Object.entries(json)) {
    const f = findField(schema, key);
    const here = path ? `${path}.${f?.name ?? key}` : (f?.name ?? key);
    if (!f) return { path: here, reason: 'unknown field' };
    if (decodes(schema, { [key]: value })) continue;
    const nested = (m: DescMessage) => !m.typeName.startsWith('google.protobuf.');
    if (f.fieldKind === 'message' && nested(f.message)) return locate(f.message, value, here);
    if (f.fieldKind === 'list' && Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (decodes(schema, { [key]: [value[i]!] })) continue;
        if (f.listKind === 'message' && nested(f.message)) return locate(f.message, value[i]!, `${here}[${i}]`);
        return { path: `${here}[${i}]`, reason: enumChoices(f) };
      }
    }
    if (f.fieldKind === 'map' && isObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (decodes(schema, { [key]: { [k]: v } })) continue;
        if (f.mapKind === 'message' && nested(f.message)) return locate(f.message, v, `${here}.${k}`);
        return { path: `${here}.${k}`, reason: enumChoices(f) };
      }
    }
    return { path: here, reason: enumChoices(f) };
  }
  return { path: path || 'request body' };
}

export function messageFromJsonBody(schema: DescMessage, json: JsonValue): Message {
  try {
    return fromJson(schema, json);
  } catch (error) {
    const { path, reason } = locate(schema, json, '');
    const detail = (error as Error).message.replace(/^cannot decode [^:]*: /, '');
    throw invalidArgument(path, reason ? `${reason} (${detail})` : detail);
  }
}
