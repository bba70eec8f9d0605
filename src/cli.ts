#!/usr/bin/env node
/**
 * `rs3gw-obs`: starts V8's sampling heap profiler, then loads the command (command.ts) and runs it.
 * The sampler sees only what is allocated after it starts, and the service's modules and start-up
 * are most of its heap: started from app.ts, heap profiles missed them. Help, --version and a bad
 * setting exit at once, so starting it for them too costs nothing noticeable.
 */
import { HeapSampler } from './core/profiling/v8/heap-sampler.js';
import { logInternalError } from './server/internal-error.js';

const heapSampler = new HeapSampler();
try {
  await heapSampler.start();
} catch (error) {
  // As any other start-up failure (command.ts): the stack, and exit 1.
  logInternalError('start-up failed', error);
  process.exit(1);
}
const { run } = await import('./command.js');
run(heapSampler);
