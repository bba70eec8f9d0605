/**
 * The anomaly load: many metrics, each a noisy flat line with a spike every SPIKE_EVERY-th sample,
 * staggered so every batch of consecutive metrics holds the same share of spikes. Each metric is
 * configured so that every spike alarms and nothing else does (short gate memory, short rest, no
 * seasonal profile); the events actually raised are counted from the RecordSamples responses.
 */
import type { ObservabilityClient } from '../../clients/ts/client.js';

const SPIKE_EVERY = 20;
/** Samples of each metric before its first spike (min_samples is 20). */
const WARM_UP = 40;
/** Samples of each metric sent by setUp, spikes included: past the detector's early false alarms,
 * every batch raises exactly batchSize / SPIKE_EVERY events. */
const TRAIN = 200;
const MAX_BATCH = 10_000;

interface BatchResult {
  events: number;
  lastSequence: number;
}

export class SpikeLoad {
  private readonly steps: Uint32Array;
  private cursor = 0;
  private seed = 12345;

  constructor(
    private readonly client: ObservabilityClient,
    readonly metrics: string[],
    readonly batchSize: number,
  ) {
    this.steps = new Uint32Array(metrics.length);
  }

  static named(client: ObservabilityClient, count: number, batchSize: number): SpikeLoad {
    return new SpikeLoad(client, Array.from({ length: count }, (_, i) => `bench_stream_latency_${i}`), batchSize);
  }

  /** Configures every metric and trains it (raising events that nobody watches yet). */
  async setUp(): Promise<void> {
    for (const metric of this.metrics) {
      await this.client.anomalies.configureMetric({
        metric,
        config: { minSamples: 20, restSamples: 2, detectorParameters: { surprise_memory: 50, season_slots: 0 } },
      });
    }
    const samples: Array<{ metric: string; value: number }> = [];
    for (let i = 0; i < TRAIN; i++) for (let m = 0; m < this.metrics.length; m++) samples.push(this.sample(m));
    for (let i = 0; i < samples.length; i += MAX_BATCH) {
      await this.client.anomalies.recordSamples({ samples: samples.slice(i, i + MAX_BATCH) });
    }
  }

  /** Events one batch raises once warmed up. */
  get eventsPerBatch(): number {
    return this.batchSize / SPIKE_EVERY;
  }

  /** Sends the next batch: one sample of each of the next `batchSize` metrics, round robin. */
  async batch(): Promise<BatchResult> {
    const samples = [];
    for (let i = 0; i < this.batchSize; i++) {
      samples.push(this.sample(this.cursor));
      this.cursor = (this.cursor + 1) % this.metrics.length;
    }
    const response = await this.client.anomalies.recordSamples({ samples });
    let events = 0;
    let lastSequence = 0;
    for (const a of response.assessments) {
      if (a.anomaly) {
        events++;
        lastSequence = Math.max(lastSequence, Number(a.anomaly.sequence));
      }
    }
    return { events, lastSequence };
  }

  private sample(m: number): { metric: string; value: number } {
    const step = this.steps[m]!++;
    const spike = step >= WARM_UP && (step + m) % SPIKE_EVERY === 0;
    return { metric: this.metrics[m]!, value: spike ? 150 + 50 * this.random() : 100 + this.random() };
  }

  private random(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
    return this.seed / 2147483648;
  }
}
