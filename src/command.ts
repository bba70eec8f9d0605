/**
 * `rs3gw-obs serve`: reads the configuration, starts the service on one port, and drains on
 * SIGTERM/SIGINT/SIGHUP (streams end cleanly, traces flush, exit code 0). A bad setting exits with 2, as
 * does a host it cannot listen on; other start-up failures (a port in use) exit with 1. Loaded by
 * cli.ts once the heap sampler runs.
 */
import { ConfigError, helpText, loadConfig, parseCommandLine } from './config/index.js';
import { MachineStateError, startService } from './app.js';
import { logLine } from './core/log-line.js';
import type { HeapSampler } from './core/profiling/v8/heap-sampler.js';
import { logInternalError } from './server/internal-error.js';
import { describeTracing } from './telemetry/tracing.js';
import { SERVICE_VERSION } from './version.js';

/**
 * A stdout closed under the service (`rs3gw-obs serve | head -1`, a log shipper gone) fails its
 * writes with EPIPE, emitted as an 'error' event that, unheard, would kill the process: what goes
 * there (start-up and shutdown lines, the console exporter's spans) is for people, and the service
 * goes on without it, after one line on stderr saying so. A stderr closed likewise is ignored:
 * there is nowhere left to say it.
 */
function tolerateClosedOutput(): void {
  let said = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (said) return;
    said = true;
    logLine(`stdout: ${error.code ?? error.message}: what the service writes there (start-up lines, console spans) is lost from now on; the service goes on`);
  });
  process.stderr.on('error', () => undefined);
}

async function main(heapSampler: HeapSampler): Promise<number> {
  tolerateClosedOutput();
  let command;
  let config;
  try {
    command = parseCommandLine(process.argv.slice(2));
    if (command.command === 'help') {
      console.log(helpText());
      return 0;
    }
    if (command.command === 'version') {
      console.log(SERVICE_VERSION);
      return 0;
    }
    config = loadConfig(process.env, command.flags);
  } catch (error) {
    if (error instanceof ConfigError) {
      logLine(error.message);
      return 2;
    }
    throw error;
  }

  for (const line of config.ignored) logLine(line);
  // Handlers first: a signal that arrives while the service starts still drains it.
  const signalled = new Promise<string>((resolve) => {
    // SIGHUP too: by default it kills at once, without the drain (a closed terminal, a supervisor).
    // Kept for the whole drain: a second signal must not fall back to the default action and cut
    // the drain short, and one comes unasked (Ctrl-C reaches npm and the service, npm passes it on
    // again; systemd's control-group kill does the same). RS3GW_SHUTDOWN_GRACE bounds the drain.
    let received: string | undefined;
    for (const name of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.on(name, () => {
        if (received === undefined) {
          received = name;
          resolve(name);
        } else {
          logLine(`${name} while draining after ${received}: the drain goes on (at most RS3GW_SHUTDOWN_GRACE); SIGKILL stops at once`);
        }
      });
    }
  });
  let service;
  try {
    service = await startService(config, heapSampler);
  } catch (error) {
    // A value that parsed but cannot be used (an unresolvable host) is a bad setting too.
    if (error instanceof ConfigError) {
      logLine(error.message);
      return 2;
    }
    throw error;
  }
  // Before the listening line, which tells a supervisor that start-up is over.
  console.log(`rs3gw-observability: ${describeTracing(config.telemetry)}`);
  console.log(`rs3gw-observability listening on ${service.url} (gRPC, Connect, gRPC-Web, REST, /metrics)`);
  if (!config.adaptiveRateLimit) {
    // Said at start-up: RS3GW_ADAPTIVE_RATE_LIMIT=false alone also chooses the controller.
    console.log(`rs3gw-observability: admission by the seed controller's token bucket, fixed at ${config.initialRateLimit} requests/s (RS3GW_ADAPTIVE_RATE_LIMIT=false)`);
  }
  const signal = await signalled;
  console.log(`rs3gw-observability: ${signal}, draining`);
  try {
    await service.stop();
    return 0;
  } catch (error) {
    logInternalError('shutdown failed', error);
    return 1;
  }
}

/** Runs the command line of this process and exits with its code. */
export function run(heapSampler: HeapSampler): void {
  main(heapSampler).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Start-up failures that are the machine's state (a port in use) say so in one line; anything
      // else is a bug, whose stack finds it.
      if (error instanceof MachineStateError) logLine(error.message);
      else logInternalError('start-up failed', error);
      process.exit(1);
    },
  );
}
