import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ObservabilityError } from '../errors.js';

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
 * A kernel file that could not be read: absent, hidden, or refused by the system (EIO, EISDIR, or
 * EMFILE when descriptors run out). It is `unavailable`, not a bug of ours, so a report leaves the
 * part that needed it out, naming it, and a call that needed it says which file failed and why. The
 * errno code stays on `code` for callers that tell a vanished process from an unreadable one.
 */
class HostFileError extends ObservabilityError {
  readonly code: string | undefined;

  constructor(path: string, cause: unknown) {
    const code = errnoCode(cause);
    super('unavailable', undefined, `cannot read ${path}: ${code ?? (cause instanceof Error ? cause.message : String(cause))}`);
    this.code = code;
  }
}

/**
 * A kernel file that was read but is not in the kernel's format (a truncated read, a foreign tree
 * under RS3GW_FS_ROOT): unavailable as an unreadable one is, so the reading that needed it is left
 * out and named, not the whole report or sample failed.
 */
export function malformedHostFile(path: string, what: string): ObservabilityError {
  return new ObservabilityError('unavailable', undefined, `${path}: ${what}`);
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
    try {
      return readFileSync(this.resolve(path), 'utf8');
    } catch (error) {
      throw new HostFileError(path, error);
    }
  }

  readBytes(path: string): Buffer {
    try {
      return readFileSync(this.resolve(path));
    } catch (error) {
      throw new HostFileError(path, error);
    }
  }

  /** Text of an optional file, or undefined when it is absent or hidden from us. */
  tryReadText(path: string): string | undefined {
    try {
      return this.readText(path);
    } catch (error) {
      if (ABSENT_CODES.has(errnoCode(error) ?? '')) return undefined;
      throw error;
    }
  }

  /** Names in a directory, or undefined when it is absent or hidden from us. */
  tryList(path: string): string[] | undefined {
    try {
      return readdirSync(this.resolve(path));
    } catch (error) {
      if (ABSENT_CODES.has(errnoCode(error) ?? '')) return undefined;
      throw new HostFileError(path, error);
    }
  }

  exists(path: string): boolean {
    return existsSync(this.resolve(path));
  }
}
