/**
 * WatchAnomalies resumed, and ListAnomalies paged, across a restart of the real service: sequences
 * start again at 1, so only the run's instance id tells a position from the previous run once the
 * new run has issued as many. And a page after anomalies that left the bounded history says so.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type ObservabilityClient } from '../../clients/ts/client.js';
import { startServer } from '../support/server.js';

/** Raises `n` anomalies, one per fresh metric (a steady baseline, then a spike). */
async function raise(client: ObservabilityClient, prefix: string, n: number): Promise<void> {
  for (let k = 0; k < n; k++) {
    const metric = `${prefix}_latency_${k}`;
    await client.anomalies.configureMetric({ metric, config: { minSamples: 20 } });
    const samples = Array.from({ length: 40 }, (_, i) => ({ metric, value: i % 2 === 0 ? 99 : 101 }));
    const { assessments } = await client.anomalies.recordSamples({ samples: [...samples, { metric, value: 1000 }] });
    assert.ok(assessments[40]!.anomaly, `${metric}: the spike raised an anomaly`);
  }
}

/** What a WatchAnomalies stream sends up to caught_up: anomaly sequences, then the caught_up fields. */
async function watch(client: ObservabilityClient, request: { resumeAfterSequence?: bigint; resumeInstanceId?: string }) {
  const abort = new AbortController();
  const sequences: number[] = [];
  try {
    for await (const m of client.anomalies.watchAnomalies(request, { signal: abort.signal })) {
      if (m.event.case === 'anomaly') sequences.push(Number(m.event.value.sequence));
      else if (m.event.case === 'missed') throw new Error(`missed ${m.event.value.count} (${m.event.value.reason})`);
      else if (m.event.case === 'caughtUp') return { sequences, lastSequence: Number(m.event.value.lastSequence), instanceId: m.event.value.instanceId };
    }
    throw new Error('stream ended before caught_up');
  } finally {
    abort.abort();
  }
}

test('a resume with the previous run instance id is OUT_OF_RANGE even once the new run has issued more sequences', async () => {
  const first = await startServer();
  let firstRun: { lastSequence: number; instanceId: string };
  try {
    const client = createObservabilityClient(first.url, { protocol: 'grpc' });
    await raise(client, 'first', 3);
    const listed = await client.anomalies.listAnomalies({ limit: 1 });
    const caughtUp = await watch(client, {});
    assert.is(Number(listed.lastSequence), 3);
    assert.match(listed.instanceId, /^[0-9a-f-]{36}$/, 'ListAnomalies names the run');
    assert.is(caughtUp.instanceId, listed.instanceId, 'caught_up names the same run');
    firstRun = { lastSequence: caughtUp.lastSequence, instanceId: caughtUp.instanceId };
  } finally {
    await first.stop();
  }

  const second = await startServer();
  try {
    const client = createObservabilityClient(second.url, { protocol: 'grpc' });
    // More than the first run issued: resume_after_sequence alone can no longer tell.
    await raise(client, 'second', 5);
    const listed = await client.anomalies.listAnomalies({ limit: 1 });
    assert.is(Number(listed.lastSequence), 5);
    assert.is.not(listed.instanceId, firstRun.instanceId, 'a new run, a new id');

    const error = await watch(client, { resumeAfterSequence: BigInt(firstRun.lastSequence), resumeInstanceId: firstRun.instanceId }).then(
      (got) => {
        throw new Error(`the resume from the previous run was accepted: ${JSON.stringify(got)}`);
      },
      (e: unknown) => ConnectError.from(e),
    );
    assert.is(error.code, Code.OutOfRange, error.message);
    assert.match(error.rawMessage, /^resume_instance_id: is not this run of the service \(.+\): the service restarted, so the anomalies before the restart are gone; resume after 0 without resume_instance_id for every anomaly this run retained$/);
    // The advice loses none of what the new run raised before the client came back.
    assert.equal(await watch(client, { resumeAfterSequence: 0n }), { sequences: [1, 2, 3, 4, 5], lastSequence: 5, instanceId: listed.instanceId });

    // ListAnomalies paged on from the previous run: an empty page ("none followed") while 5 had.
    const pageError = await client.anomalies.listAnomalies({ afterSequence: BigInt(firstRun.lastSequence), afterInstanceId: firstRun.instanceId }).then(
      (got) => {
        throw new Error(`the page after the previous run's sequence was served: ${got.anomalies.length} anomalies`);
      },
      (e: unknown) => ConnectError.from(e),
    );
    assert.is(pageError.code, Code.OutOfRange, pageError.message);
    assert.match(pageError.rawMessage, /^after_instance_id: is not this run of the service \(.+\): the service restarted, so the anomalies before the restart are gone; page after 0 without after_instance_id for every anomaly this run retained$/);
    // A sequence this run never issued: it listed nothing, and after 2 skipped 1 and 2 unseen.
    const beyond = await client.anomalies.listAnomalies({ afterSequence: 99n }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    assert.is(beyond?.code, Code.OutOfRange, String(beyond?.message));
    assert.match(beyond!.rawMessage, /^after_sequence: is beyond the last sequence issued, 5: the service restarted since \(sequences start again at 1\); page after 0 for every anomaly retained$/);
    const page = await client.anomalies.listAnomalies({ afterSequence: 3n, afterInstanceId: listed.instanceId });
    assert.equal(page.anomalies.map((a) => Number(a.sequence)), [5, 4], "this run's own id pages on as usual");

    // This run's own id resumes as usual.
    assert.equal(await watch(client, { resumeAfterSequence: 3n, resumeInstanceId: listed.instanceId }), { sequences: [4, 5], lastSequence: 5, instanceId: listed.instanceId });
    // Without the id, as before: the sequence alone is taken as this run's (what a client that
    // does not send the id gets).
    assert.equal(await watch(client, { resumeAfterSequence: 3n }), { sequences: [4, 5], lastSequence: 5, instanceId: listed.instanceId });
  } finally {
    await second.stop();
  }
});

test('a resume_instance_id not in the form the service issues, or without resume_after_sequence, is invalid_argument naming it, on every protocol', async () => {
  const server = await startServer();
  try {
    const protocols = [{ protocol: 'grpc' }, { protocol: 'connect' }, { protocol: 'connect', json: true }, { protocol: 'grpc-web' }] as const;
    for (const options of protocols) {
      const client = createObservabilityClient(server.url, options);
      const what = JSON.stringify(options);
      const { instanceId } = await client.anomalies.listAnomalies({ limit: 1 });
      const refused = async (request: { resumeAfterSequence?: bigint; resumeInstanceId?: string }) =>
        watch(client, request).then(
          (got) => {
            throw new Error(`${what}: ${JSON.stringify(request, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} was accepted: ${JSON.stringify(got)}`);
          },
          (e: unknown) => ConnectError.from(e),
        );
      // Not an id any run issued: the client's mistake, not a restart (it was OUT_OF_RANGE, "the service restarted").
      for (const forged of ['forged', instanceId.toUpperCase(), instanceId.slice(0, 35), `${instanceId} `]) {
        const error = await refused({ resumeAfterSequence: 0n, resumeInstanceId: forged });
        assert.is(error.code, Code.InvalidArgument, `${what} ${forged}: ${error.message}`);
        assert.is(error.rawMessage, 'resume_instance_id: must be an instance_id as the service issues it, a lower-case UUID (from WatchCaughtUp or ListAnomaliesResponse)', what);
      }
      // Alone it was ignored without a word, the stream going live.
      const alone = await refused({ resumeInstanceId: instanceId });
      assert.is(alone.code, Code.InvalidArgument, `${what}: ${alone.message}`);
      assert.is(
        alone.rawMessage,
        'resume_instance_id: is given without resume_after_sequence: it names the run that sequence is from; send both to resume, or neither to watch live',
        what,
      );
      // A well-formed id of another run is still OUT_OF_RANGE, and this run's resumes.
      const other = await refused({ resumeAfterSequence: 0n, resumeInstanceId: '00000000-0000-4000-8000-000000000000' });
      assert.is(other.code, Code.OutOfRange, `${what}: ${other.message}`);
      assert.equal(await watch(client, { resumeAfterSequence: 0n, resumeInstanceId: instanceId }), { sequences: [], lastSequence: 0, instanceId });
    }
  } finally {
    await server.stop();
  }
});

test('ListAnomalies says which anomalies left the bounded history before a page reached them, whatever the filter', async () => {
  const server = await startServer({ RS3GW_ANOMALY_HISTORY_SIZE: '3' });
  try {
    const client = createObservabilityClient(server.url, { protocol: 'connect' });
    await raise(client, 'evicted', 2);
    const first = await client.anomalies.listAnomalies({ afterSequence: 0n, metric: 'evicted_latency_0' });
    assert.equal(first.anomalies.map((a) => Number(a.sequence)), [1]);
    assert.is(first.oldestSequence, 1n);
    // Four more: the history holds 4 to 6, so 2 and 3 left it before the next page.
    await raise(client, 'later', 4);
    const next = await client.anomalies.listAnomalies({ afterSequence: 1n });
    assert.equal(next.anomalies.map((a) => Number(a.sequence)), [6, 5, 4]);
    assert.is(next.oldestSequence, 4n, 'after 1, the pager can tell that 2 and 3 are gone');
    // REST says the same, and an empty history 0.
    const rest = (await (await fetch(`${server.url}/api/observability/anomalies?after_sequence=1&metric=evicted_latency_1`)).json()) as { anomalies?: unknown[]; oldest_sequence: string };
    assert.equal([rest.anomalies ?? [], rest.oldest_sequence], [[], '4']);
    // A page after the previous run's position, over REST: OUT_OF_RANGE is 400.
    const beyond = await fetch(`${server.url}/api/observability/anomalies?after_sequence=99`);
    assert.is(beyond.status, 400);
    assert.match(((await beyond.json()) as { message: string }).message, /^after_sequence: is beyond the last sequence issued, 6/);
    const alone = await fetch(`${server.url}/api/observability/anomalies?after_instance_id=${first.instanceId}`);
    assert.equal([alone.status, ((await alone.json()) as { message: string }).message], [400, 'after_instance_id: is given without after_sequence: it names the run that sequence is from; send both to page on, or neither for the newest']);
  } finally {
    await server.stop();
  }
  const empty = await startServer();
  try {
    const listed = await createObservabilityClient(empty.url, { protocol: 'grpc' }).anomalies.listAnomalies({ afterSequence: 0n });
    assert.equal([listed.anomalies.length, listed.oldestSequence, listed.lastSequence], [0, 0n, 0n]);
  } finally {
    await empty.stop();
  }
});

test.run();
