import type { Profile } from 'pprof-format';
import { int64, uint64, uint64Key } from '../pprof/numbers.js';

/** One frame of the flame graph: a function called along one path, with the value of all samples under it. */
export interface FrameNode {
  name: string;
  filename: string;
  line: number;
  value: number;
  children: FrameNode[];
}

interface FrameInfo {
  key: string;
  name: string;
  filename: string;
  line: number;
}

/**
 * Folds the samples of one sample type into a call tree rooted at "all"; frames of the same
 * function under the same parent are merged, as flamegraph.pl does.
 */
export function buildFrameTree(profile: Profile, sampleTypeIndex: number): FrameNode {
  const strings = profile.stringTable.strings;
  const functions = new Map(profile.function.map((f) => [uint64Key(f.id), f]));
  // Each location expands to its lines outermost first (pprof lists inlined lines innermost first).
  const frames = new Map<string, FrameInfo[]>();
  for (const location of profile.location) {
    const lines = location.line.map((ln): FrameInfo => {
      const fn = functions.get(uint64Key(ln.functionId));
      const name = fn ? strings[uint64(fn.name)] || strings[uint64(fn.systemName)] : '';
      const filename = fn ? strings[uint64(fn.filename)] : '';
      return { key: `${name}\u0000${filename}`, name: name || `0x${BigInt(location.address).toString(16)}`, filename, line: int64(ln.line) };
    });
    if (lines.length === 0) {
      const name = `0x${BigInt(location.address).toString(16)}`;
      lines.push({ key: name, name, filename: '', line: 0 });
    }
    frames.set(uint64Key(location.id), lines.reverse());
  }

  const root: FrameNode = { name: 'all', filename: '', line: 0, value: 0, children: [] };
  const childIndex = new Map<FrameNode, Map<string, FrameNode>>();
  for (const sample of profile.sample) {
    const value = int64(sample.value[sampleTypeIndex] ?? 0);
    if (value <= 0) continue;
    root.value += value;
    let node = root;
    for (let i = sample.locationId.length - 1; i >= 0; i--) {
      for (const frame of frames.get(uint64Key(sample.locationId[i])) ?? []) {
        let index = childIndex.get(node);
        if (!index) {
          index = new Map();
          childIndex.set(node, index);
        }
        let child = index.get(frame.key);
        if (!child) {
          child = { name: frame.name, filename: frame.filename, line: frame.line, value: 0, children: [] };
          index.set(frame.key, child);
          node.children.push(child);
        }
        child.value += value;
        node = child;
      }
    }
  }
  return root;
}
