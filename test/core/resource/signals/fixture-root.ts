import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A writable copy of a /proc fixture tree, so a test can change what the "kernel" reports between samples. */
export class FixtureRoot {
  readonly path: string;

  constructor(name: string) {
    this.path = mkdtempSync(join(tmpdir(), 'procfs-'));
    cpSync(fileURLToPath(new URL(`../../../fixtures/procfs/${name}`, import.meta.url)), this.path, { recursive: true });
  }

  write(file: string, text: string): void {
    writeFileSync(join(this.path, file), text);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
