/**
 * A server under libfaketime whose wall clock a test steps while it runs; the monotonic clock is
 * left alone, as NTP leaves it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../support/server.js';

/** Debian's libfaketime, installed by scripts/test-tools.sh. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export interface SteppableServer extends RunningServer {
  /** Sets the server's wall clock to the real one plus `offset` (libfaketime's form: "+0", "-1h", "+2h"). */
  step(offset: string): void;
}

export async function startSteppableServer(env: Record<string, string> = {}): Promise<SteppableServer> {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: run \`bash scripts/test-tools.sh\``);
  const dir = mkdtempSync(join(tmpdir(), 'rs3gw-faketime-'));
  const offsetFile = join(dir, 'offset');
  const step = (offset: string) => writeFileSync(offsetFile, `${offset}\n`);
  step('+0');
  const server = await startServer({
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    RS3GW_SHUTDOWN_GRACE: '1',
    ...env,
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    ...server,
    step,
    stop: async () => {
      try {
        return await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
