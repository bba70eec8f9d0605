/**
 * Plain-fetch helpers for the REST end-to-end tests: calls as a curl user would make them, and the
 * checks every REST answer shares (proto JSON with snake_case names, the Connect error shape).
 */
import { request as httpRequest } from 'node:http';
import * as assert from 'uvu/assert';
import { startServer, type RunningServer } from '../../support/server.js';

export const API = '/api/observability';

/**
 * The built server with a 1 s shutdown grace: fetch keeps idle keep-alive connections open, and the
 * server waits out the whole grace for them on SIGTERM (see rest-protocol.test.ts), which would add
 * the 10 s default to every file.
 */
export function startRestServer(env: Record<string, string> = {}): Promise<RunningServer> {
  return startServer({ RS3GW_SHUTDOWN_GRACE: '1', ...env });
}

/** A decoded JSON object of a REST answer; tests read nested fields by name. */
export type Json = any;

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Json;
}

/** A reply from its parts: the body parsed as JSON where it is JSON. */
export function replyOf(status: number, headers: Headers, text: string): Reply {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}

async function reply(response: Response): Promise<Reply> {
  return replyOf(response.status, response.headers, await response.text());
}

export class Rest {
  constructor(readonly baseUrl: string) {}

  /** GET `path` (relative to the server, e.g. `/api/observability/health?x=1`). */
  async get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return reply(await fetch(this.baseUrl + path, { headers }));
  }

  /** POST a JSON value, or a raw string body as it is. */
  async post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    return reply(
      await fetch(this.baseUrl + path, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers },
      }),
    );
  }

  async request(method: string, path: string, body?: string): Promise<Reply> {
    return reply(await fetch(this.baseUrl + path, { method, body }));
  }

  /** GET that must succeed with JSON; returns the parsed body. */
  async getOk(path: string): Promise<Json> {
    const r = await this.get(path);
    assertOk(r, `GET ${path}`);
    return r.json;
  }

  /** POST that must succeed with JSON; returns the parsed body. */
  async postOk(path: string, body: unknown): Promise<Json> {
    const r = await this.post(path, body);
    assertOk(r, `POST ${path}`);
    return r.json;
  }
}

export function assertOk(r: Reply, what: string): void {
  assert.is(r.status, 200, `${what}: status ${r.status}: ${r.text.slice(0, 500)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${what}: content type`);
  assert.ok(r.json !== undefined && typeof r.json === 'object', `${what}: JSON object body`);
}

/**
 * An error answer: the status, the Connect code name, and a message naming the field. A string
 * field must open the message (`value: ...`), as the engines write it; a RegExp must match it.
 */
export function assertError(r: Reply, status: number, code: string, field: string | RegExp): void {
  const what = `${r.status} ${r.text.slice(0, 300)}`;
  assert.is(r.status, status, `status: ${what}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `content type: ${what}`);
  assert.is(r.json?.code, code, `code: ${what}`);
  assert.type(r.json?.message, 'string');
  if (typeof field === 'string') assert.ok((r.json.message as string).startsWith(`${field}:`), `message names ${field}: ${what}`);
  else assert.match(r.json.message, field, `message names the field: ${what}`);
}

/** Objects whose keys are data (label names, metric names, bucket names), not proto field names. */
const MAP_FIELDS = new Set(['labels', 'requests_by_operation', 'requests_by_bucket', 'detector_parameters', 'metrics']);

/** Every field name of a proto3 JSON answer is the proto (snake_case) name, never the lowerCamel JSON name. */
export function assertSnakeCase(value: Json, path = '$'): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertSnakeCase(v, `${path}[${i}]`));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    assert.match(key, /^[a-z][a-z0-9_]*$/, `${path}.${key} is a proto field name`);
    if (MAP_FIELDS.has(key) && child !== null && typeof child === 'object' && !Array.isArray(child)) {
      for (const [entry, v] of Object.entries(child)) assertSnakeCase(v, `${path}.${key}[${entry}]`);
    } else {
      assertSnakeCase(child, `${path}.${key}`);
    }
  }
}

/** Reads `a.b.c` from a JSON object, failing with the path when a step is missing. */
export function field(value: Json, path: string): Json {
  let at: Json = value;
  for (const step of path.split('.')) {
    assert.ok(at !== null && typeof at === 'object' && step in at, `${path}: missing ${step}`);
    at = at[step];
  }
  return at;
}

/** proto3 JSON writes 64-bit integers as strings; this reads one as a number. */
export function int(value: Json): number {
  assert.type(value, 'string', `64-bit integer as a JSON string, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** A google.protobuf.Duration in JSON ("1.500s") as milliseconds. */
export function durationMs(value: Json): number {
  assert.match(value, /^-?\d+(\.\d+)?s$/, `duration in proto JSON form, got ${JSON.stringify(value)}`);
  return Number((value as string).slice(0, -1)) * 1000;
}

/** An RFC 3339 timestamp as epoch ms. */
export function timeMs(value: Json): number {
  assert.type(value, 'string');
  const ms = Date.parse(value);
  assert.ok(Number.isFinite(ms), `RFC 3339 timestamp, got ${value}`);
  return ms;
}

export function assertNear(actual: number, expected: number, relative: number, what: string): void {
  const tolerance = Math.abs(expected) * relative;
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${relative * 100}% of ${expected}`);
}

/** Polls `probe` until it returns a value, for things the server does on its own schedule. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * A request sent with node:http, which (unlike fetch) sends a GET's body: with a content-length,
 * or chunked when `headers` say so; JSON's content type unless `headers` give another.
 */
export function sendWithBody(baseUrl: string, method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Without a length Node sends a GET's body unframed; chunked when the caller says so.
    const framing = headers['transfer-encoding'] ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...framing, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
