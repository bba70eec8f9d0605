/**
 * grpc.health.v1: Check, Watch and List, per service and for the server as a whole (""). On
 * shutdown every status turns NOT_SERVING and open Watch streams end cleanly.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as Status } from '../../../gen/ts/grpc/health/v1/health_pb.js';
import { invalidArgument, resourceExhausted } from '../../core/errors.js';
import { bindService, type ServiceBinding } from '../pipeline/handlers.js';
import { quote } from '../pipeline/well-known.js';

/** RS3GW_HEALTH_MAX_WATCHERS: its default and the highest accepted. */
export const DEFAULT_HEALTH_WATCHERS = 10_000;
export const MAX_HEALTH_WATCHERS = 1_000_000;

/**
 * Longer than any fully-qualified service name: a Watch keeps its name for the stream's life, and
 * a request may carry up to RS3GW_MAX_MESSAGE_BYTES of one.
 */
export const MAX_SERVICE_NAME_CHARS = 1024;

export interface WatcherLimit {
  max: number;
  /** The setting that raises it, which a refusal names. */
  setting: string;
}

export class HealthStatuses {
  private readonly statuses = new Map<string, Status>();
  private readonly watchers = new Set<() => void>();

  constructor(
    services: readonly string[],
    private readonly watcherLimit: WatcherLimit = { max: DEFAULT_HEALTH_WATCHERS, setting: 'RS3GW_HEALTH_MAX_WATCHERS' },
  ) {
    this.statuses.set('', Status.SERVING);
    for (const s of services) this.statuses.set(s, Status.SERVING);
  }

  get(service: string): Status | undefined {
    return this.statuses.get(service);
  }

  entries(): [string, Status][] {
    return [...this.statuses.entries()];
  }

  setAll(status: Status): void {
    for (const key of this.statuses.keys()) this.statuses.set(key, status);
    for (const notify of this.watchers) notify();
  }

  /** Open Watch streams (each listens for changes). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Refused (RESOURCE_EXHAUSTED) when the watchers are at their cap. */
  onChange(notify: () => void): () => void {
    const { max, setting } = this.watcherLimit;
    if (this.watchers.size >= max) throw resourceExhausted(undefined, `at most ${max} Health/Watch streams at once; raise ${setting}`);
    this.watchers.add(notify);
    return () => this.watchers.delete(notify);
  }
}

/** The request's service name, refused when longer than any real one (it would be unknown anyway). */
function serviceName(service: string): string {
  // Characters, not UTF-16 units (an emoji is two); counted only as far as the bound.
  if (service.length > MAX_SERVICE_NAME_CHARS) {
    let chars = 0;
    for (const _ of service) if (++chars > MAX_SERVICE_NAME_CHARS) break;
    if (chars > MAX_SERVICE_NAME_CHARS) throw invalidArgument('service', `more than the ${MAX_SERVICE_NAME_CHARS} characters a service name may have`);
  }
  return service;
}

async function* watchStatus(statuses: HealthStatuses, service: string, signal: AbortSignal) {
  let last: Status | undefined;
  let wake = () => {};
  const unsubscribe = statuses.onChange(() => wake());
  signal.addEventListener('abort', () => wake(), { once: true });
  try {
    while (!signal.aborted) {
      const status = statuses.get(service) ?? Status.SERVICE_UNKNOWN;
      if (status !== last) {
        last = status;
        yield { status };
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (signal.aborted) resolve();
      });
    }
  } finally {
    unsubscribe();
  }
}

export function healthBinding(statuses: HealthStatuses): ServiceBinding {
  return bindService(
    Health,
    {
      check(request) {
        const service = serviceName(request.service);
        const status = statuses.get(service);
        if (status === undefined) throw new ConnectError(`service: unknown service ${quote(service, "'")}`, Code.NotFound);
        return { status };
      },
      // Not a generator itself: the stream keeps the checked name, not the request (whose unknown
      // fields may hold up to RS3GW_MAX_MESSAGE_BYTES).
      watch(request, ctx) {
        return watchStatus(statuses, serviceName(request.service), ctx.signal);
      },
      list() {
        return { statuses: Object.fromEntries(statuses.entries().map(([name, status]) => [name, { status }])) };
      },
    },
    { observed: false },
  );
}
