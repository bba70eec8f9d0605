import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeEventLoopMonitor } from '../../../../src/core/resource/signals/providers.js';

test('a blocked event loop shows as delay and utilisation; an idle one does not', async () => {
  const loop = new NodeEventLoopMonitor(10);
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const idle = loop.sample();
    assert.ok(idle.delayP99Ms < 50, `idle delay ${idle.delayP99Ms}`);
    assert.ok(idle.utilization < 0.5, `idle utilisation ${idle.utilization}`);

    // Let one timer period complete after the reset, then block the loop for 400 ms: long against
    // the idle waits around it, even when a loaded machine stretches those timers.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const until = Date.now() + 400;
    while (Date.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const busy = loop.sample();
    assert.ok(busy.delayP99Ms >= 100, `blocked delay ${busy.delayP99Ms}`);
    assert.ok(busy.utilization > 0.5, `blocked utilisation ${busy.utilization}`);
  } finally {
    loop.close();
  }
});

test.run();
