/**
 * grpc.health.v1: Check, Watch and List, per service and for the server as a whole (""). On
 * shutdown every status turns NOT_SERVING and open Watch streams end cleanly.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as Status } from '../../../gen/ts/grpc/health/v1/health_pb.js';
import { bindService, type ServiceBinding } from '../pipeline/handlers.js';

/** Caps List and Watch fan-out, as grpc-go does. */
const MAX_LISTED_SERVICES = 100;

export class HealthStatuses {
  private readonly statuses = new Map<string, Status>();
  private readonly watchers = new Set<() => void>();

  constructor(services: readonly string[]) {
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

  onChange(notify: () => void): () => void {
    this.watchers.add(notify);
    return () => this.watchers.delete(notify);
  }
}

export function healthBinding(statuses: HealthStatuses): ServiceBinding {
  return bindService(
    Health,
    {
      check(request) {
        const status = statuses.get(request.service);
        if (status === undefined) throw new ConnectError(`service: unknown service '${request.service}'`, Code.NotFound);
        return { status };
      },
      async *watch(request, ctx) {
        let last: Status | undefined;
        let wake = () => {};
        const unsubscribe = statuses.onChange(() => wake());
        ctx.signal.addEventListener('abort', () => wake(), { once: true });
        try {
          while (!ctx.signal.aborted) {
            const status = statuses.get(request.service) ?? Status.SERVICE_UNKNOWN;
            if (status !== last) {
              last = status;
              yield { status };
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
              if (ctx.signal.aborted) resolve();
            });
          }
        } finally {
          unsubscribe();
        }
      },
      list() {
        const entries = statuses.entries();
        if (entries.length > MAX_LISTED_SERVICES) throw new ConnectError('too many services to list', Code.ResourceExhausted);
        return { statuses: Object.fromEntries(entries.map(([name, status]) => [name, { status }])) };
      },
    },
    { observed: false },
  );
}
