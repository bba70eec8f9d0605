/**
 * The NAB CLIs in a clone without the corpus (it lives in ../shared/nab beside the repository, not
 * in it): one line naming the missing path and the flags that point at the corpus, no stack trace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, runCommand } from '../../support/server.js';

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

for (const script of ['bench/nab/cli.ts', 'bench/nab/loco.ts']) {
  test(`${script} without the corpus says which file is missing and how to point at it`, async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rs3gw-nab-missing-'));
    try {
      const windows = join(empty, 'windows.json');
      const data = join(empty, 'data');
      const noWindows = await runCommand(TSX, [script, '--data', data, '--windows', windows], { timeoutMs: 60_000 });
      assert.is(noWindows.code, 1, noWindows.stderr);
      assert.is(
        noWindows.stderr,
        `NAB corpus: ${windows} not found (--windows): the corpus is not in this repository (by default it is read from ../shared/nab beside it); point --data at its data directory and --windows at its windows.json\n`,
      );
      const noData = await runCommand(TSX, [script, '--data', data, '--windows', join(REPO_ROOT, 'package.json')], { timeoutMs: 60_000 });
      assert.is(noData.code, 1, noData.stderr);
      assert.match(noData.stderr, `NAB corpus: ${data} not found (--data): `);
      assert.is(noData.stderr.trim().split('\n').length, 1, noData.stderr);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
}

test.run();
