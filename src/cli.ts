#!/usr/bin/env node
/**
 * `rs3gw-obs serve`: reads the configuration, starts the service on one port, and drains on
 * SIGTERM/SIGINT (streams end cleanly, traces flush, exit code 0). A bad setting exits with 2.
 */
import { ConfigError, helpText, loadConfig, parseCommandLine } from './config/index.js';
import { startService } from './app.js';
import { SERVICE_VERSION } from './version.js';

async function main(): Promise<number> {
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
      console.error(`rs3gw-obs: ${error.message}`);
      return 2;
    }
    throw error;
  }

  const service = await startService(config);
  console.log(`rs3gw-observability listening on ${service.url} (gRPC, Connect, gRPC-Web, REST, /metrics)`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`rs3gw-observability: ${signal}, draining`);
      service.stop().then(
        () => resolve(0),
        (error: unknown) => {
          console.error('rs3gw-obs: shutdown failed:', error);
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('rs3gw-obs:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
