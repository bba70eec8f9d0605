/**
 * Variables that look like a misspelt setting. A typo (a letter dropped from a name) would otherwise
 * be ignored without a word and the default used, so start-up names it. Only near misses are named:
 * the gateway shares the RS3GW_ prefix, and its own variables (far from any of ours) are its business.
 */

/** Edits (insert, delete, substitute, swap two neighbours) allowed in the name after the prefix. */
function allowedEdits(suffix: string): number {
  // One in a short name: two would read a gateway variable named ROOT or POOL as HOST or PORT.
  return suffix.length <= 5 ? 1 : 2;
}

/** One line per variable with the prefix that is no setting but a few edits from one (after the prefix). */
export function nearMisses(env: NodeJS.ProcessEnv, prefix: string, known: readonly string[]): string[] {
  const settings = new Set(known);
  const lines: string[] = [];
  for (const name of Object.keys(env).sort()) {
    // Upper-cased: a variable in the wrong case is a near miss too (the names are case-sensitive).
    const upper = name.toUpperCase();
    if (!upper.startsWith(prefix) || settings.has(name)) continue;
    const closest = nearest(upper.slice(prefix.length), prefix, known);
    if (closest !== undefined) lines.push(`${name} ignored: it is no setting of this service; did you mean ${closest}? (see --help)`);
  }
  return lines;
}

function nearest(suffix: string, prefix: string, known: readonly string[]): string | undefined {
  let best: { name: string; edits: number } | undefined;
  for (const candidate of known) {
    const wanted = candidate.slice(prefix.length);
    const allowed = allowedEdits(wanted);
    const edits = editDistance(suffix, wanted, allowed);
    if (edits <= allowed && (best === undefined || edits < best.edits)) best = { name: candidate, edits };
  }
  return best?.name;
}

/** Optimal string alignment distance (neighbours swapped count as one edit); more than `max` reads max + 1. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
