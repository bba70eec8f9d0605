/**
 * Writes a response message as REST: a set `google.api.HttpBody` field is sent as it is (with a
 * `file_name` sibling, if any, as the download name); anything else is proto3 JSON with proto
 * field names and default values included, of the rule's `response_body` field or the whole message.
 */
import { create, toJson, type DescField, type DescMessage, type JsonWriteOptions, type Message } from '@bufbuild/protobuf';
import type { ServerResponse } from 'node:http';
import type { HttpBody } from '../../../gen/ts/google/api/httpbody_pb.js';
import { findField } from './query.js';

const JSON_OPTIONS = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

function httpBodyOf(schema: DescMessage, message: Record<string, unknown>): HttpBody | undefined {
  for (const f of schema.fields) {
    if (f.fieldKind === 'message' && f.message.typeName === 'google.api.HttpBody') {
      const body = message[f.localName] as HttpBody | undefined;
      if (body && (body.contentType !== '' || body.data.length > 0)) return body;
    }
  }
  return undefined;
}

export function writeMessage(res: ServerResponse, schema: DescMessage, message: Message, responseBody: string, headOnly: boolean): void {
  const fields = message as unknown as Record<string, unknown>;
  const raw = httpBodyOf(schema, fields);
  if (raw) {
    const headers: Record<string, string | number> = {
      'content-type': raw.contentType || 'application/octet-stream',
      'content-length': raw.data.length,
    };
    const fileName = fields['fileName'];
    if (typeof fileName === 'string' && fileName !== '') headers['content-disposition'] = `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`;
    res.writeHead(200, headers);
    res.end(headOnly ? undefined : raw.data);
    return;
  }
  let json: unknown;
  if (responseBody !== '') {
    const f = findField(schema, responseBody);
    if (!f || f.fieldKind !== 'message') throw new Error(`response_body '${responseBody}' is not a message field of ${schema.typeName}`);
    const value = fields[f.localName] as Message | undefined;
    json = value ? toJsonOwnKeys(f.message, value, JSON_OPTIONS) : {};
  } else {
    json = toJsonOwnKeys(schema, message, JSON_OPTIONS);
  }
  const text = JSON.stringify(json);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(headOnly ? undefined : text);
}

/**
 * `toJson`, keeping map entries whose key is `__proto__`. protobuf-es (2.13) writes map entries with
 * `jsonObj[key] = value`, which for the key `__proto__` sets the object's prototype instead of adding
 * the entry, so a bucket or metric named `__proto__` vanished from the JSON. Such entries are added
 * back as own properties; messages without one are serialised exactly as before.
 */
export function toJsonOwnKeys(schema: DescMessage, message: Message, options: Partial<JsonWriteOptions>): unknown {
  const json = toJson(schema, message, options);
  restoreProtoKeys(schema, message, json, options);
  return json;
}

const PROTO_KEY = '__proto__';

function restoreProtoKeys(schema: DescMessage, message: Message, json: unknown, options: Partial<JsonWriteOptions>): void {
  // Well-known types have their own JSON shapes (and this service's use no maps).
  if (schema.typeName.startsWith('google.protobuf.') || json === null || typeof json !== 'object') return;
  const jsonFields = json as Record<string, unknown>;
  for (const f of schema.fields) {
    const value = fieldValue(message, f);
    const jsonValue = jsonFields[options.useProtoFieldName ? f.name : f.jsonName];
    if (value === undefined || jsonValue === undefined || jsonValue === null) continue;
    if (f.fieldKind === 'map') {
      const entries = value as Record<string, unknown>;
      if (f.mapKind === 'message') {
        for (const [key, entry] of Object.entries(entries)) {
          if (key !== PROTO_KEY) restoreProtoKeys(f.message, entry as Message, (jsonValue as Record<string, unknown>)[key], options);
        }
      }
      if (Object.prototype.hasOwnProperty.call(entries, PROTO_KEY)) {
        Object.defineProperty(jsonValue, PROTO_KEY, {
          value: entryJson(schema, f, entries[PROTO_KEY], options),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    } else if (f.fieldKind === 'message') {
      restoreProtoKeys(f.message, value as Message, jsonValue, options);
    } else if (f.fieldKind === 'list' && f.listKind === 'message' && Array.isArray(jsonValue)) {
      (value as Message[]).forEach((item, i) => restoreProtoKeys(f.message, item, jsonValue[i], options));
    }
  }
}

/** A field's value, also when it is a member of a oneof. */
function fieldValue(message: Message, f: DescField): unknown {
  const fields = message as unknown as Record<string, unknown>;
  if (f.oneof === undefined) return fields[f.localName];
  const chosen = fields[f.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return chosen?.case === f.localName ? chosen.value : undefined;
}

/** The JSON of one map value, as protobuf-es writes it: serialised under a harmless key of an otherwise empty message. */
function entryJson(schema: DescMessage, f: DescField, entry: unknown, options: Partial<JsonWriteOptions>): unknown {
  const probe = create(schema) as unknown as Record<string, unknown>;
  probe[f.localName] = { key: entry };
  const json = toJson(schema, probe as unknown as Message, options) as Record<string, Record<string, unknown>>;
  const out = json[options.useProtoFieldName ? f.name : f.jsonName].key;
  if (f.fieldKind === 'map' && f.mapKind === 'message') restoreProtoKeys(f.message, entry as Message, out, options);
  return out;
}

/** Errors in the Connect protocol's JSON shape: {"code": "invalid_argument", "message": "..."}. */
export function writeError(res: ServerResponse, status: number, code: string, message: string, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify({ code, message });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}
