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

test.run();
