import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Writes the profile to a temp file and returns what `go tool pprof <flag>` prints for it (throws if pprof fails). */
export async function goToolPprof(profile: Uint8Array, flag: '-top' | '-raw'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rs3gw-pprof-'));
  try {
    const file = join(dir, 'profile.pb.gz');
    await writeFile(file, profile);
    const { stdout } = await run('go', ['tool', 'pprof', flag, file], {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, PPROF_TMPDIR: dir },
    });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
