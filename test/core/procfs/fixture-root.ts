import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A writable copy of a /proc fixture tree, so a test can change what the "kernel" reports between samples. */
export class FixtureRoot {
  readonly path: string;

  constructor(name: string) {
    this.path = mkdtempSync(join(tmpdir(), 'procfs-'));
    cpSync(fileURLToPath(new URL(`../../fixtures/procfs/${name}`, import.meta.url)), this.path, { recursive: true });
  }

  /** Writes a file of the tree, making its directories where they are missing. */
  write(file: string, text: string | Uint8Array): void {
    mkdirSync(dirname(join(this.path, file)), { recursive: true });
    writeFileSync(join(this.path, file), text);
  }

  /**
   * Places the reading process in cgroups: its /proc/self/cgroup lines (`4:memory:/docker/abc`,
   * `0::/`), and a mountinfo holding one hierarchy per entry, by mount point: the v1 controllers
   * mounted there, or `cgroup2` for the unified hierarchy.
   */
  placeInCgroups(lines: string[], mounts: Record<string, string>): void {
    this.write('proc/self/cgroup', `${lines.join('\n')}\n`);
    this.write(
      'proc/self/mountinfo',
      Object.entries(mounts)
        .map(([at, what], i) => `${40 + i} 25 0:${40 + i} / ${at} rw - ${what === 'cgroup2' ? 'cgroup2 cgroup2 rw' : `cgroup cgroup rw,${what}`}`)
        .join('\n'),
    );
  }

  /** Rewrites a file of the tree through `change`. */
  edit(file: string, change: (text: string) => string): void {
    const path = join(this.path, file);
    writeFileSync(path, change(readFileSync(path, 'utf8')));
  }

  /** Rewrites numbered fields (as in proc(5): 14 = utime, 22 = starttime) of /proc/<pid>/stat. */
  setStat(pid: number, fields: Record<number, number>): void {
    const file = join(this.path, `proc/${pid}/stat`);
    const text = readFileSync(file, 'utf8');
    const close = text.lastIndexOf(')');
    const rest = text.slice(close + 1).trim().split(/\s+/);
    for (const [index, value] of Object.entries(fields)) rest[Number(index) - 3] = String(value);
    writeFileSync(file, `${text.slice(0, close + 1)} ${rest.join(' ')}\n`);
  }

  /**
   * Makes `proc/self` what procfs has, a link to the reading process's pid (`proc/<pid>`), the files
   * of the fixture's `proc/self` moving there: the tree is then a /proc in which we are `pid`.
   */
  linkSelf(pid: number): void {
    const self = join(this.path, 'proc/self');
    for (const name of readdirSync(self)) renameSync(join(self, name), join(this.path, `proc/${pid}/${name}`));
    rmSync(self, { recursive: true });
    symlinkSync(String(pid), self);
  }

  removeFile(file: string): void {
    unlinkSync(join(this.path, file));
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export const UTIME = 14;
export const STIME = 15;
export const STARTTIME = 22;
