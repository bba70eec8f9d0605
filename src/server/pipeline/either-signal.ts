/**
 * A signal that aborts when either of two does, detached from both by `dispose`. Node 20's
 * AbortSignal.any keeps a reference to every signal it makes in each of its sources, for as long
 * as the source lives: combined with the server's shutdown signal, every stream left about 100
 * bytes behind for the life of the process.
 */
export interface EitherSignal {
  signal: AbortSignal;
  dispose(): void;
}

export function eitherSignal(a: AbortSignal, b: AbortSignal): EitherSignal {
  const controller = new AbortController();
  const fromA = () => controller.abort(a.reason);
  const fromB = () => controller.abort(b.reason);
  if (a.aborted) fromA();
  else if (b.aborted) fromB();
  a.addEventListener('abort', fromA, { once: true });
  b.addEventListener('abort', fromB, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      a.removeEventListener('abort', fromA);
      b.removeEventListener('abort', fromB);
    },
  };
}
