import { fileURLToPath } from 'node:url';
import type { FunctionDescriptor, MappingDescriptor } from '../pprof/builder.js';

/** A V8 call frame as the inspector reports it (0-based line and column, -1 when unknown). */
export interface V8CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** pprof wants a path: file:// URLs become paths, `node:` and other URLs stay as written. */
function sourceFile(url: string): string {
  if (!url.startsWith('file://')) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/** V8 leaves anonymous functions (and module top-level code) unnamed; pprof shows a name. */
export function frameFunction(frame: V8CallFrame): FunctionDescriptor {
  return {
    name: frame.functionName || '(anonymous)',
    filename: sourceFile(frame.url),
    startLine: frame.lineNumber >= 0 ? frame.lineNumber + 1 : 0,
  };
}

/** 1-based line and column for pprof (0 = unknown); V8's positions are 0-based. */
export function frameLine(frame: V8CallFrame): { line: number; column: number } {
  return {
    line: frame.lineNumber >= 0 ? frame.lineNumber + 1 : 0,
    column: frame.columnNumber >= 0 ? frame.columnNumber + 1 : 0,
  };
}

/** The one mapping every JS location belongs to: this node binary, symbolised already. */
export function nodeRuntimeMapping(): MappingDescriptor {
  return {
    filename: process.execPath,
    buildId: `node-${process.version}`,
    hasFunctions: true,
    hasFilenames: true,
    hasLineNumbers: true,
    hasInlineFrames: false,
  };
}
