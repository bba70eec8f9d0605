/**
 * Writes a response message as REST: a set `google.api.HttpBody` field is sent as it is (with a
 * `file_name` sibling, if any, as the download name); anything else is proto3 JSON with proto
 * field names and default values included, of the rule's `response_body` field or the whole message.
 */
import { toJson, type DescMessage, type Message } from '@bufbuild/protobuf';
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
    json = value ? toJson(f.message, value, JSON_OPTIONS) : {};
  } else {
    json = toJson(schema, message, JSON_OPTIONS);
  }
  const text = JSON.stringify(json);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(headOnly ? undefined : text);
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
