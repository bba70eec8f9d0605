/**
 * WatchAnomalies resumed across a restart of the real service: sequences start again at 1, so only
 * the run's instance id tells a resume from the previous run once the new run has issued as many.
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

test.run();
