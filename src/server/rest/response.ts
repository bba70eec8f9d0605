/**
 * Writes a response message as REST: a set `google.api.HttpBody` field is sent as it is (with a
 * `file_name` sibling, if any, as the download name); anything else is proto3 JSON with proto
 * field names and default values included, of the rule's `response_body` field or the whole message.
 */
import { ScalarType, toJson, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import type { ServerResponse } from 'node:http';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { HttpBody } from '../../../gen/ts/google/api/httpbody_pb.js';
import { findField } from './query.js';

const JSON_OPTIONS = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

/**
 * JSON characters written between two turns of the event loop: about a millisecond of toJson and
 * JSON.stringify, so a large answer (an ExportMetrics of 100,000 series is 10 MB) does not hold up
 * other calls for the whole of it.
 */
export const JSON_CHUNK_CHARS = 128 * 1024;

/** A list or map of at least this many messages is written an element at a time. */
const SPLIT_ELEMENTS = 32;

function httpBodyOf(schema: DescMessage, message: Record<string, unknown>): HttpBody | undefined {
  for (const f of schema.fields) {
    if (f.fieldKind === 'message' && f.message.typeName === 'google.api.HttpBody') {
      const body = message[f.localName] as HttpBody | undefined;
      if (body && (body.contentType !== '' || body.data.length > 0)) return body;
    }
  }
  return undefined;
}

/** A REST answer made and not yet written: rendered first, so that its size can be judged (RS3GW_MAX_UNSENT_BYTES). */
export interface RenderedAnswer {
  headers: Record<string, string | number>;
  /** An HttpBody's bytes, or the JSON text in chunks (never joined: see jsonChunks). */
  body: readonly (string | Uint8Array)[];
  bytes: number;
}

/** The answer `message` is written as; undefined once `gone()` says no one is left to read it. */
export async function renderMessage(schema: DescMessage, message: Message, responseBody: string, gone: () => boolean): Promise<RenderedAnswer | undefined> {
  const fields = message as unknown as Record<string, unknown>;
  const raw = httpBodyOf(schema, fields);
  if (raw) {
    const headers: Record<string, string | number> = {
      'content-type': raw.contentType || 'application/octet-stream',
      'content-length': raw.data.length,
    };
    const fileName = fields['fileName'];
    if (typeof fileName === 'string' && fileName !== '') headers['content-disposition'] = `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`;
    return { headers, body: [raw.data], bytes: raw.data.length };
  }
  let chunks: string[] | undefined;
  if (responseBody !== '') {
    const f = findField(schema, responseBody);
    if (!f || f.fieldKind !== 'message') throw new Error(`response_body '${responseBody}' is not a message field of ${schema.typeName}`);
    const value = fields[f.localName] as Message | undefined;
    chunks = value ? await jsonChunks(f.message, value, gone) : ['{}'];
  } else {
    chunks = await jsonChunks(schema, message, gone);
  }
  if (chunks === undefined) return undefined;
  let length = 0;
  for (const chunk of chunks) length += Buffer.byteLength(chunk);
  return { headers: { 'content-type': 'application/json', 'content-length': length }, body: chunks, bytes: length };
}

export function writeRendered(res: ServerResponse, answer: RenderedAnswer, headOnly: boolean): void {
  res.writeHead(200, answer.headers);
  if (!headOnly) for (const chunk of answer.body) res.write(chunk);
  res.end();
}

/** `JSON.stringify(toJson(schema, message, JSON_OPTIONS))`: the text jsonChunks writes, joined. */
export async function jsonText(schema: DescMessage, message: Message): Promise<string> {
  return (await jsonChunks(schema, message, () => false))!.join('');
}

/** Thrown out of the nested writers of jsonChunks when the client is gone. */
const GONE = Symbol('client gone');

/**
 * The text of `JSON.stringify(toJson(schema, message, JSON_OPTIONS))` in chunks of about
 * JSON_CHUNK_CHARS, with a turn of the event loop after each: large lists and maps of messages are
 * written an element at a time, everything else in one toJson as before. Kept as chunks, never one
 * string: joining or measuring a 10 MB string of 100,000 pieces is itself a stall. Undefined, at
 * the next chunk, once `gone()` says no one is left to read it.
 */
async function jsonChunks(schema: DescMessage, message: Message, gone: () => boolean): Promise<string[] | undefined> {
  const chunks: string[] = [];
  let pieces: string[] = [];
  let pending = 0;
  /** Adds text; a chunk's worth is joined and stored, and the event loop gets a turn. */
  const put = async (text: string): Promise<void> => {
    pieces.push(text);
    pending += text.length;
    if (pending >= JSON_CHUNK_CHARS) {
      chunks.push(pieces.join(''));
      pieces = [];
      pending = 0;
      await yieldToEventLoop();
      if (gone()) throw GONE;
    }
  };

  const writeMessageJson = async (desc: DescMessage, value: Message): Promise<void> => {
    const fields = value as unknown as Record<string, unknown>;
    const split = desc.typeName.startsWith('google.protobuf.') ? [] : desc.fields.filter((f) => splits(f, fields[f.localName]));
    if (split.length === 0) return put(JSON.stringify(toJson(desc, value, JSON_OPTIONS)));
    // The message with the split fields emptied gives every other field, in toJson's order.
    const shell = Object.assign(Object.create(Object.getPrototypeOf(value) as object) as object, value) as Record<string, unknown>;
    for (const f of split) shell[f.localName] = f.fieldKind === 'map' ? {} : [];
    const json = toJson(desc, shell as unknown as Message, JSON_OPTIONS) as Record<string, unknown>;
    let separator = '{';
    for (const key of Object.keys(json)) {
      const f = split.find((s) => s.name === key);
      await put(`${separator}${JSON.stringify(key)}:`);
      separator = ',';
      if (f === undefined) await put(JSON.stringify(json[key]));
      else await writeContainer(f, fields[f.localName]);
    }
    await put(separator === '{' ? '{}' : '}');
  };

  const writeContainer = async (f: DescField, value: unknown): Promise<void> => {
    const element = (f as { message: DescMessage }).message;
    if (f.fieldKind === 'list') {
      const items = value as Message[];
      await put('[');
      for (let i = 0; i < items.length; i++) {
        if (i > 0) await put(',');
        await writeMessageJson(element, items[i]!);
      }
      return put(']');
    }
    // toJson writes a map's entries in Object.keys order (string keys as they are), as done here.
    const record = value as Record<string, Message>;
    let separator = '{';
    for (const key of Object.keys(record)) {
      await put(`${separator}${JSON.stringify(key)}:`);
      separator = ',';
      await writeMessageJson(element, record[key]!);
    }
    return put(separator === '{' ? '{}' : '}');
  };

  try {
    await writeMessageJson(schema, message);
  } catch (error) {
    if (error === GONE) return undefined;
    throw error;
  }
  if (pieces.length > 0) chunks.push(pieces.join(''));
  return chunks;
}

/** Whether a field is a list or string-keyed map of messages worth writing an element at a time. */
function splits(f: DescField, value: unknown): boolean {
  let element: DescMessage;
  let size: number;
  if (f.fieldKind === 'list' && f.listKind === 'message') {
    element = f.message;
    size = (value as unknown[]).length;
  } else if (f.fieldKind === 'map' && f.mapKind === 'message' && f.mapKey === ScalarType.STRING) {
    element = f.message;
    size = Object.keys(value as object).length;
  } else {
    return false;
  }
  // Well-known types have JSON forms of their own; a message holding lists may hold large ones.
  if (element.typeName.startsWith('google.protobuf.')) return false;
  return size >= SPLIT_ELEMENTS || holdsMessages(element);
}

function holdsMessages(desc: DescMessage): boolean {
  return desc.fields.some((f) => (f.fieldKind === 'list' && f.listKind === 'message') || (f.fieldKind === 'map' && f.mapKind === 'message'));
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
