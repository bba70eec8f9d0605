/**
 * The README's TypeScript example (`node dist/clients/ts/example.js URL PROTOCOL`) against the real
 * server over each protocol: it sees the spike's anomaly arrive on its stream and exits 0.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, runCommand, startServer, type RunningServer } from '../support/server.js';

const test = suite('TS client example');
let server: RunningServer;

test.before(async () => {
  server = await startServer();
});

test.after(async () => {
  await server?.stop();
});

for (const protocol of ['grpc', 'connect', 'grpc-web']) {
  test(`${protocol}: the spike's anomaly is delivered and the example exits 0`, async () => {
    const run = await runCommand(process.execPath, [`${REPO_ROOT}dist/clients/ts/example.js`, server.url, protocol], { timeoutMs: 30_000 });
    assert.is(run.code, 0, run.stderr);
    assert.match(run.stdout, /^anomaly #\d+: example_latency_ms_\d+=900 expected \d+\.\d \(LATENCY_SPIKE, /m);
    assert.match(run.stdout, /anomaly raised: true/);
  });
}

test('the example leaves no metric behind: runs do not pile up against RS3GW_ANOMALY_MAX_METRICS', async () => {
  const tracked = async () => Number(/^rs3gw_anomaly_metrics_tracked (\d+)$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);
  const before = await tracked();
  assert.ok(Number.isInteger(before), `rs3gw_anomaly_metrics_tracked on /metrics: ${before}`);
  for (let i = 0; i < 2; i++) assert.is((await runCommand(process.execPath, [`${REPO_ROOT}dist/clients/ts/example.js`, server.url, 'connect'], { timeoutMs: 30_000 })).code, 0);
  assert.is(await tracked(), before);
});

test.run();
