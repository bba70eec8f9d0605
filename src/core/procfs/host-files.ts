import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Error codes that mean "this optional kernel file is not there": missing files, kernels built
 * without the feature (PSI reads fail with EOPNOTSUPP when booted with psi=0), or files hidden from us.
 */
const ABSENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'EOPNOTSUPP', 'ENODEV', 'EACCES', 'EPERM']);

/** The errno code of a failed fs call, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/**
 * Reads kernel files below an injected root (default `/`), so the readers can be pointed at fixture
 * trees. Paths are given as the kernel names them (`/proc/meminfo`), and sources reported to users
 * use those names, not the root-prefixed ones.
 */
export class HostFiles {
  constructor(readonly root: string = '/') {}

  resolve(path: string): string {
    return join(this.root, path);
  }

  readText(path: string): string {
    return readFileSync(this.resolve(path), 'utf8');
  }

  readBytes(path: string): Buffer {
    return readFileSync(this.resolve(path));
  }

  /** Text of an optional file, or undefined when it is absent or unreadable. */
  tryReadText(path: string): string | undefined {
    try {
      return this.readText(path);
    } catch (error) {
      if (ABSENT_CODES.has(errnoCode(error) ?? '')) return undefined;
      throw error;
    }
  }

  exists(path: string): boolean {
    return existsSync(this.resolve(path));
  }
}
