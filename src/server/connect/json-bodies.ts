/**
 * Connect JSON carries a google.api.HttpBody's bytes (a Prometheus export, a pprof profile) as
 * base64, which protobuf-es encodes in JavaScript: seconds for tens of megabytes, during which the
 * service answers nothing else (Node's own encoder takes milliseconds). So a large body's bytes
 * leave the response before connect-node writes its JSON, wait in the request's slot, and are put
 * back into the JSON text, base64-encoded by Node, by the method's text encoder.
 */
import type { DescField, DescMessage, Message } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';

/** Bodies smaller than this are left to protobuf-es: the detour costs more than it saves. */
const DETACH_MIN_BYTES = 64 * 1024;

/** The bytes taken out of the response's HttpBody fields, by the fields' JSON names. */
export type DetachedBodies = Map<string, Uint8Array>;

interface HttpBody {
  data: Uint8Array;
}

function httpBodyFields(schema: DescMessage): DescField[] {
  return schema.fields.filter((f) => f.fieldKind === 'message' && f.message.typeName === 'google.api.HttpBody');
}

/** Whether answers of this type can carry a body worth detaching (most cannot: nothing to do). */
export function carriesHttpBody(schema: DescMessage): boolean {
  return httpBodyFields(schema).length > 0;
}

/** Whether connect-node will answer this call in JSON (a Connect JSON POST, or a GET with encoding=json). */
export function answersInJson(ctx: HandlerContext): boolean {
  if (ctx.requestMethod === 'GET') return new URL(ctx.url).searchParams.get('encoding') === 'json';
  return /json/i.test(ctx.requestHeader.get('content-type') ?? '');
}

/** The response with its large HttpBody bytes moved to `detached` (the message is copied, not changed). */
export function detachBodies(schema: DescMessage, response: Message, detached: DetachedBodies): Message {
  let out = response;
  for (const f of httpBodyFields(schema)) {
    const body = (response as unknown as Record<string, HttpBody | undefined>)[f.localName];
    if (!body || body.data.byteLength < DETACH_MIN_BYTES) continue;
    detached.set(f.jsonName, body.data);
    out = { ...out, [f.localName]: { ...body, data: new Uint8Array(0) } } as Message;
  }
  return out;
}

/** A text encoder that puts detached bytes back into the JSON text connect-node wrote. */
export function bodyRestoringEncoder(detachedOf: () => DetachedBodies | undefined): { encode(text: string): Uint8Array } {
  const utf8 = new TextEncoder();
  return {
    encode(text: string): Uint8Array {
      const detached = detachedOf();
      if (!detached || detached.size === 0) return utf8.encode(text);
      const json = JSON.parse(text) as Record<string, Record<string, unknown> | undefined>;
      for (const [name, data] of detached) json[name] = { ...json[name], data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
      detached.clear();
      return utf8.encode(JSON.stringify(json));
    },
  };
}
