/**
 * The Go net/http/pprof paths, so existing tools work unchanged (`go tool pprof
 * http://host:9000/debug/pprof/profile?seconds=5`, Parca, Pyroscope), plus a flame graph. They call
 * ProfilingService.CaptureProfile through the same pipeline as every RPC.
 */
import { create } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CaptureProfileRequestSchema, ProfileType, type CaptureProfileResponse } from '../../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import { invalidArgument } from '../../core/errors.js';
import { decodeProfile, DEFAULT_CPU_PROFILE_SECONDS, renderFlameGraphSvg, secondsOverMaximum } from '../../core/profiling/pprof/index.js';
import { codeName, httpStatusOf, retryAfterHeader, toConnectError } from '../pipeline/errors.js';
import { clip } from '../pipeline/well-known.js';
import { writeError } from '../rest/response.js';
import { queryParameters } from '../rest/query-text.js';
import type { HttpRoute } from './router.js';

type CaptureProfileRequest = ReturnType<typeof create<typeof CaptureProfileRequestSchema>>;

/**
 * Runs CaptureProfile on the request that `readRequest` builds from the query: it runs inside the
 * call, so a bad parameter is traced and counted like any refused call.
 */
export type ProfileInvoker = (
  readRequest: () => Promise<CaptureProfileRequest>,
  req: IncomingMessage,
  signal: AbortSignal,
) => Promise<CaptureProfileResponse>;

/** Seconds the index's flame-graph link asks for, or the longest allowed when that is shorter. */
const FLAME_GRAPH_LINK_SECONDS = 10;

/** The index, with links the server serves: lengths within RS3GW_PROFILING_MAX_SECONDS (a link to 30 s was refused under a maximum of 5). */
function indexPage(maxSeconds: number): string {
  const profileSeconds = Math.min(DEFAULT_CPU_PROFILE_SECONDS, maxSeconds);
  const flameSeconds = Math.min(FLAME_GRAPH_LINK_SECONDS, maxSeconds);
  return `<!doctype html><html><head><title>/debug/pprof/</title></head><body>
<h1>/debug/pprof/</h1>
<ul>
<li><a href="profile">profile</a>: CPU profile (pprof, <code>?seconds=N</code>, default ${profileSeconds}, at most ${maxSeconds})</li>
<li><a href="heap">heap</a>: sampled live heap (pprof)</li>
<li><a href="allocs">allocs</a>: the same live heap (V8's sampler keeps no freed allocations, so there is no alloc_space)</li>
<li><a href="flamegraph?seconds=${flameSeconds}">flamegraph</a>: CPU flame graph (SVG, <code>?seconds=N</code>; <code>?type=heap</code> for the heap)</li>
</ul></body></html>`;
}

/**
 * Go's `debug` parameter: 0 (or empty) is the binary profile, as without it; a text rendering
 * (debug=1, 2) is not served. Accepted where Go takes it, so that tools sending debug=0 work.
 */
function checkDebug(params: Map<string, string>): void {
  const debug = params.get('debug') ?? '';
  if (debug !== '' && debug !== '0') throw invalidArgument('debug', `text profiles are not served, got '${clip(debug)}'; leave debug out, or give 0, for the binary pprof profile`);
}

function parameters(url: URL, allowed: string[]): Map<string, string> {
  const out = new Map<string, string>();
  // Strictly decoded: URLSearchParams would read `%FF` as U+FFFD and echo that.
  for (const [key, value] of queryParameters(url.search)) {
    // `?=1`: an empty name echoed would read as no name at all.
    if (key === '') throw invalidArgument('query', `a parameter with an empty name; this path takes ${allowed.join(', ') || 'none'}`);
    if (!allowed.includes(key)) throw invalidArgument(clip(key), `unknown query parameter; this path takes ${allowed.join(', ') || 'none'}`);
    // Go's handler would take the first value, a URL library the last: neither is guessed, as on the REST paths.
    if (out.has(key)) throw invalidArgument(key, 'given more than once');
    out.set(key, value);
  }
  return out;
}

/**
 * Whole seconds, as Go's handler takes them; 0 or empty means the default length, as there.
 * CaptureProfile refuses a length above the maximum; one of 2^32 and up, above any maximum, is
 * refused here in the same words, as given: past 2^53 it would reach CaptureProfile rounded, and past
 * a Duration's range not at all.
 */
function secondsParam(params: Map<string, string>, maxSeconds: number): number {
  const raw = params.get('seconds') ?? '';
  if (raw === '') return 0;
  if (!/^\d+$/.test(raw)) throw invalidArgument('seconds', `must be a whole number of seconds (0 for the default), got '${raw}'`);
  if (Number(raw) >= 2 ** 32) throw secondsOverMaximum('seconds', maxSeconds, clip(raw));
  return Number(raw);
}

function typeParam(params: Map<string, string>): ProfileType {
  const raw = params.get('type') ?? 'cpu';
  if (raw === 'cpu') return ProfileType.CPU;
  if (raw === 'heap') return ProfileType.HEAP;
  throw invalidArgument('type', `must be cpu or heap, got '${raw}'`);
}

/** CaptureProfile's request; 0 seconds (absent) leaves `duration` unset: the default length. */
function pprofRequest(type: ProfileType, seconds: number) {
  return create(CaptureProfileRequestSchema, { type, duration: seconds > 0 ? { seconds: BigInt(seconds) } : undefined });
}

/** The request's `duration` is this path's `seconds` parameter: errors name what the user gave. */
function asSecondsParameter(error: ConnectError): ConnectError {
  if (!error.rawMessage.startsWith('duration: ')) return error;
  return new ConnectError(`seconds: ${error.rawMessage.slice('duration: '.length)}`, error.code, error.metadata, error.details as never, error.cause);
}

function writeProfile(res: ServerResponse, response: CaptureProfileResponse): void {
  const data = response.pprof?.data ?? new Uint8Array();
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-disposition': `attachment; filename="${response.fileName}"`,
    'content-length': data.length,
  });
  res.end(data);
}

/** `maxSeconds` is the longest CPU profile a request may ask for (RS3GW_PROFILING_MAX_SECONDS). */
export function pprofRoutes(capture: ProfileInvoker, maxSeconds: number): HttpRoute {
  return async (req, res, url) => {
    const path = url.pathname.replace(/\/+$/, '');
    // HEAD is for the index only: on a profile path it would run a capture to send nothing.
    const allowed = path === '/debug/pprof' ? ['GET', 'HEAD'] : ['GET'];
    if (!allowed.includes(req.method ?? '')) {
      writeError(res, 405, 'unimplemented', `${req.method} is not allowed on ${url.pathname}; use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
      return;
    }
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const call = (readRequest: () => CaptureProfileRequest) => {
      // Errors before the request is read name query parameters already; later ones name its fields.
      let read = false;
      const readOnce = async () => {
        const request = readRequest();
        read = true;
        return request;
      };
      return capture(readOnce, req, controller.signal).catch((error: unknown) => {
        const e = toConnectError(error);
        throw read ? asSecondsParameter(e) : e;
      });
    };
    try {
      switch (path) {
        case '/debug/pprof': {
          parameters(url, []);
          const index = indexPage(maxSeconds);
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(index) });
          res.end(req.method === 'HEAD' ? undefined : index);
          return;
        }
        case '/debug/pprof/profile':
          writeProfile(
            res,
            await call(() => {
              const p = parameters(url, ['seconds', 'debug']);
              checkDebug(p);
              return pprofRequest(ProfileType.CPU, secondsParam(p, maxSeconds));
            }),
          );
          return;
        // Go serves allocs as the heap profile with alloc_space as its default; V8's sampling heap
        // profiler drops samples once their objects are collected, so only the live heap (inuse_*)
        // exists. Served anyway: Parca and Pyroscope fetch memory from allocs by default.
        case '/debug/pprof/allocs':
        case '/debug/pprof/heap': {
          writeProfile(
            res,
            await call(() => {
              // `gc` is what Go's handler takes to force a collection first; V8's sampler reports live objects anyway.
              const p = parameters(url, ['gc', 'seconds', 'debug']);
              checkDebug(p);
              // Go serves a delta profile for a seconds that is not empty; an empty one is the plain heap there.
              if ((p.get('seconds') ?? '') !== '') {
                throw invalidArgument('seconds', `delta heap profiles are not served; ${path} is the live heap now`);
              }
              return pprofRequest(ProfileType.HEAP, 0);
            }),
          );
          return;
        }
        case '/debug/pprof/flamegraph': {
          const response = await call(() => {
            const p = parameters(url, ['seconds', 'type']);
            const type = typeParam(p);
            // A heap flame graph is the live heap now, as /debug/pprof/heap, which refuses seconds too.
            if (type === ProfileType.HEAP && p.has('seconds')) {
              throw invalidArgument('seconds', `a heap flame graph is the live heap now and takes no length; leave seconds out with type=heap`);
            }
            return pprofRequest(type, secondsParam(p, maxSeconds));
          });
          const profile = decodeProfile(response.pprof?.data ?? new Uint8Array());
          // The call has checked `type` by now.
          const title = url.searchParams.get('type') === 'heap' ? 'rs3gw-observability heap (in-use bytes)' : `rs3gw-observability CPU`;
          const svg = renderFlameGraphSvg(profile, { title });
          res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8', 'content-length': Buffer.byteLength(svg) });
          res.end(svg);
          return;
        }
        default:
          writeError(res, 404, 'not_found', `no pprof path ${clip(url.pathname)}; see /debug/pprof/`);
      }
    } catch (error) {
      const e: ConnectError = toConnectError(error);
      writeError(res, httpStatusOf(e.code), codeName(e.code), e.rawMessage, retryAfterHeader(e));
    }
  };
}
