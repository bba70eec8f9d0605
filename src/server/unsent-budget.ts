/**
 * The bytes of responses handed to connections but not yet taken by their clients, across the
 * whole port, and their cap (RS3GW_MAX_UNSENT_BYTES). One response per HTTP/1.1 connection and
 * the send timeout bound what one client holds, but not what many hold together: a /metrics of
 * 32 MiB left unread on each of a few hundred connections would still exhaust the heap, as would
 * thousands of pages of GetStatistics on HTTP/2 streams whose window stays 0. So every answer of
 * REFUSABLE_ANSWER_BYTES or more, of any method on any protocol, is judged here before it is handed
 * to its connection, and refused when the cap would be passed; the large renders (/metrics,
 * ExportMetrics) ask first too, and are refused rather than rendered. Smaller answers are never
 * refused: a health check must not fail because others hold large answers, and what they hold is
 * bounded by the connections and the streams each carries.
 */
import { ObservabilityError } from '../core/errors.js';

const UNSENT_SETTING = 'RS3GW_MAX_UNSENT_BYTES';

/** Answers smaller than this are left to the transport's own measure, never refused. */
export const REFUSABLE_ANSWER_BYTES = 16 * 1024;

/** What a transport asks before handing over an answer (a unary response, a stream message). */
export interface AnswerBudget {
  /** Refuses (throws) an answer of `bytes` of `what` (a method name) that does not fit, else counts it. */
  answer(what: string, bytes: number): void;
}

/** A render the budget let start: its estimate is held until it is admitted or released. */
export interface RenderTicket {
  /** The render is made: refused when its `bytes` do not fit, else counted. */
  admit(bytes: number): void;
  /** The render is made, to be judged where it is handed over (answer): its size is the next one's estimate. */
  made(bytes: number): void;
  /** The render ended without an answer to count (failed, abandoned, HEAD); harmless after admit. */
  release(): void;
}

export class UnsentBudget implements AnswerBudget {
  /** Bytes admitted this turn of the event loop: rendered, but perhaps not yet handed to a connection (and so not yet measured). */
  private admitted = 0;
  /** Estimates of the renders in progress: a burst of them cannot all start on room only one has. */
  private rendering = 0;
  /** The size of the last render of each kind: the estimate a render is checked on before it is made. */
  private readonly lastRender = new Map<string, number>();
  /** Renders refused since start-up. */
  refused = 0;

  constructor(
    readonly maxBytes: number,
    /** Bytes handed to connections and not yet taken by the kernel, measured now (see FrontDoor.unsentBytes). */
    private readonly measure: () => number,
    /** The estimate of a kind not rendered yet: the largest it may be (the custom metrics' exposition budget). */
    private readonly firstEstimateBytes: number,
  ) {}

  /** Bytes of answers not yet taken by clients: those in connections and those of this turn. */
  unsent(): number {
    return this.measure() + this.admitted;
  }

  /** What a render is judged against: the unsent bytes and the estimates of renders in progress. */
  held(): number {
    return this.unsent() + this.rendering;
  }

  /**
   * The refusal for a render of `bytes` (undefined when it fits). A render with nothing else held
   * always fits: the cap bounds what clients hold together, and must not stop the only scrape of a
   * /metrics grown past it.
   */
  private refusal(what: string, bytes: number): ObservabilityError | undefined {
    const held = this.held();
    if (held === 0 || held + bytes <= this.maxBytes) return undefined;
    this.refused += 1;
    return new ObservabilityError(
      'unavailable',
      undefined,
      `${what}: its ${bytes} bytes would take the responses not yet taken by clients past ${UNSENT_SETTING} (${this.maxBytes} bytes; ${held} held now); try again when clients have read them`,
    );
  }

  /**
   * Before rendering `kind`: refused when its estimate (the last render's size) does not fit now,
   * else the estimate is held until the ticket is admitted or released.
   */
  check(kind: string, what: string): RenderTicket {
    const estimate = this.lastRender.get(kind) ?? this.firstEstimateBytes;
    const error = this.refusal(what, estimate);
    if (error) throw error;
    this.rendering += estimate;
    let held = true;
    const release = (): void => {
      if (held) this.rendering -= estimate;
      held = false;
    };
    return {
      release,
      admit: (bytes) => {
        release();
        this.lastRender.set(kind, bytes);
        this.take(what, bytes);
      },
      made: (bytes) => {
        release();
        this.lastRender.set(kind, bytes);
      },
    };
  }

  answer(what: string, bytes: number): void {
    if (bytes >= REFUSABLE_ANSWER_BYTES) this.take(what, bytes);
  }

  /**
   * `bytes` about to be handed over: refused when they do not fit, else counted until the next
   * turn of the event loop, by which time the transport has them and they are measured there. Two
   * answers finishing in the same turn thus cannot both take the last of the room.
   */
  private take(what: string, bytes: number): void {
    const error = this.refusal(what, bytes);
    if (error) throw error;
    this.admitted += bytes;
    setImmediate(() => (this.admitted -= bytes));
  }
}
