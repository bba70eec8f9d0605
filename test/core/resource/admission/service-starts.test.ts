import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REMEMBERED_COMPLETIONS, ServiceStarts } from '../../../../src/core/resource/admission/service-starts.js';

/**
 * A FIFO queue in front of `servers` servers, fed at the given arrival times with the given
 * service times; reports each request's true start and the start reconstructed from admissions
 * and completions alone.
 */
function fifo(servers: number, arrivalsMs: number[], servicesMs: number[]) {
  const starts = new ServiceStarts();
  const trueStartMs: number[] = [];
  const reconstructedMs: (number | undefined)[] = [];
  const trueInflight: number[] = [];
  const reconstructedInflight: number[] = [];
  const waitingFor: number[] = [];
  const finishMs = new Map<number, number>();
  const queue: number[] = [];
  let inflight = 0;
  const start = (i: number, nowMs: number) => {
    trueStartMs[i] = nowMs;
    trueInflight[i] = inflight;
    finishMs.set(i, nowMs + servicesMs[i]!);
  };
  let next = 0;
  while (next < arrivalsMs.length || finishMs.size > 0) {
    const [doneIndex, doneMs] = [...finishMs].reduce((a, b) => (b[1] < a[1] ? b : a), [-1, Infinity]);
    const arrivalMs = next < arrivalsMs.length ? arrivalsMs[next]! : Infinity;
    if (doneMs <= arrivalMs) {
      // A completion: its server takes the head of the queue.
      finishMs.delete(doneIndex);
      inflight -= 1;
      starts.completed(doneMs, inflight);
      const n = waitingFor[doneIndex]!;
      reconstructedMs[doneIndex] = n === 0 ? arrivalsMs[doneIndex] : starts.timeOf(n);
      reconstructedInflight[doneIndex] = n === 0 ? trueInflight[doneIndex]! : starts.inflightAt(n);
      if (queue.length > 0) start(queue.shift()!, doneMs);
    } else {
      const i = next++;
      inflight += 1;
      waitingFor[i] = starts.startingCompletion(inflight, servers);
      if (finishMs.size < servers) start(i, arrivalMs);
      else queue.push(i);
    }
  }
  return { trueStartMs, reconstructedMs, trueInflight, reconstructedInflight };
}

test('a queued request starts on the completion that frees a server for it, reconstructed from admissions and completions', () => {
  // Three servers, a burst of twelve requests with very different service times, then two more:
  // later requests overtake earlier ones in completing, but never in starting.
  const arrivals = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 40, 41];
  const services = [50, 5, 30, 7, 90, 3, 3, 60, 1, 12, 25, 8, 4, 6];
  const { trueStartMs, reconstructedMs, trueInflight, reconstructedInflight } = fifo(3, arrivals, services);
  assert.equal(reconstructedMs, trueStartMs);
  assert.equal(reconstructedInflight, trueInflight, 'and the inflight each ran under');
  assert.ok(trueStartMs.some((t, i) => t > arrivals[i]!), 'some requests waited');
});

test('starts further back than the remembered completions are forgotten: memory stays bounded', () => {
  const starts = new ServiceStarts();
  const first = starts.startingCompletion(5, 4);
  assert.is(first, 1, 'one request ahead: it starts on the next completion');
  assert.is(starts.timeOf(first), undefined, 'not happened yet');
  for (let n = 1; n <= REMEMBERED_COMPLETIONS + 10; n++) starts.completed(n, 7);
  assert.is(starts.timeOf(first), undefined);
  assert.is(starts.timeOf(10), undefined);
  assert.is(starts.timeOf(11), 11, 'the oldest remembered');
  assert.is(starts.timeOf(REMEMBERED_COMPLETIONS + 10), REMEMBERED_COMPLETIONS + 10);
  assert.is(starts.inflightAt(REMEMBERED_COMPLETIONS + 10), 7);
  assert.is(starts.startingCompletion(3, 4), 0, 'a free server: it starts at once');
});

test.run();
