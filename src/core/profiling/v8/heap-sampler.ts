import { Session } from 'node:inspector/promises';
import { type Clock, systemClock } from '../../clock.js';
import { failedPrecondition, invalidArgument } from '../../errors.js';
import { encodeProfile } from '../pprof/codec.js';
import { heapProfileToPprof, type V8HeapProfile } from './heap-profile-to-pprof.js';

/** 512 KiB, Go's MemProfileRate: cheap enough to leave on for the life of the service. */
const DEFAULT_HEAP_SAMPLING_INTERVAL_BYTES = 512 * 1024;
const MIN_HEAP_SAMPLING_INTERVAL_BYTES = 1024;
const MAX_HEAP_SAMPLING_INTERVAL_BYTES = 64 * 1024 * 1024;

export interface HeapSamplerOptions {
  /** Average bytes allocated between samples (V8 draws the gaps from a Poisson process). */
  samplingIntervalBytes?: number;
  clock?: Clock;
}

/** V8 has one sampling heap profiler per isolate: a second sampler would restart or stop it. */
let runningSampler: HeapSampler | undefined;

/**
 * Keeps V8's sampling heap profiler running (start it once at service start) so that a heap
 * profile of the allocations still alive can be taken at any time.
 */
export class HeapSampler {
  readonly samplingIntervalBytes: number;
  private readonly clock: Clock;
  private session: Session | undefined;
  private starting: Promise<void> | undefined;

  constructor(options: HeapSamplerOptions = {}) {
    const interval = options.samplingIntervalBytes ?? DEFAULT_HEAP_SAMPLING_INTERVAL_BYTES;
    if (!Number.isInteger(interval) || interval < MIN_HEAP_SAMPLING_INTERVAL_BYTES || interval > MAX_HEAP_SAMPLING_INTERVAL_BYTES) {
      throw invalidArgument(
        'sampling_interval_bytes',
        `must be an integer in [${MIN_HEAP_SAMPLING_INTERVAL_BYTES}, ${MAX_HEAP_SAMPLING_INTERVAL_BYTES}], got ${interval}`,
      );
    }
    this.samplingIntervalBytes = interval;
    this.clock = options.clock ?? systemClock;
  }

  get running(): boolean {
    return this.session !== undefined;
  }

  /** Starts sampling; calling it again while running does nothing. */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.session) return Promise.resolve();
    if (runningSampler && runningSampler !== this) {
      return Promise.reject(failedPrecondition(undefined, 'another HeapSampler is already running in this process'));
    }
    runningSampler = this;
    const session = new Session();
    session.connect();
    this.starting = (async () => {
      try {
        await session.post('HeapProfiler.enable');
        await session.post('HeapProfiler.startSampling', { samplingInterval: this.samplingIntervalBytes });
        this.session = session;
      } catch (err) {
        session.disconnect();
        runningSampler = undefined;
        throw err;
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  /** Stops sampling and forgets the samples; a stopped sampler can be started again. */
  async stop(): Promise<void> {
    if (this.starting) await this.starting;
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    try {
      await session.post('HeapProfiler.stopSampling');
    } finally {
      session.disconnect();
      runningSampler = undefined;
    }
  }

  /** A gzipped pprof profile of the sampled allocations still alive now. */
  async profile(): Promise<Uint8Array> {
    if (this.starting) await this.starting;
    const session = this.session;
    if (!session) throw failedPrecondition(undefined, 'the heap sampler is not running; start it when the service starts');
    const nowMs = this.clock.nowMs();
    const { profile } = await session.post('HeapProfiler.getSamplingProfile');
    return encodeProfile(
      heapProfileToPprof(profile as unknown as V8HeapProfile, {
        timeNanos: BigInt(Math.round(nowMs)) * 1_000_000n,
        samplingIntervalBytes: this.samplingIntervalBytes,
      }),
    );
  }
}
