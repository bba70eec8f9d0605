/**
 * Counts the spans started and not yet ended. Calls the port cuts off when the shutdown grace ends
 * end their spans a moment later, once their handlers see the abort: the tracer must not be shut
 * down before, or those spans are dropped.
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export class OpenSpans implements SpanProcessor {
  private open = 0;
  private readonly waiters = new Set<() => void>();

  onStart(_span: Span, _parentContext: Context): void {
    this.open++;
  }

  onEnd(_span: ReadableSpan): void {
    this.open--;
    if (this.open === 0) for (const wake of [...this.waiters]) wake();
  }

  /** Resolves once every span started has ended, or after `ms`, whichever comes first. */
  allEnded(ms: number): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
