/** A REST request body as a request message, read as strictly as Connect JSON (pipeline/json-request.ts). */
import type { DescMessage, JsonValue, Message } from '@bufbuild/protobuf';
import { messageFromJson } from '../pipeline/json-request.js';

export function messageFromJsonBody(schema: DescMessage, json: JsonValue): Message {
  return messageFromJson(schema, json);
}
