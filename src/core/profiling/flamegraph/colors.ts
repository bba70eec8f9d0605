/** FNV-1a: a stable hash so a function keeps its colour across renders. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Runtime pseudo-frames such as (idle), (program), (garbage collector): parenthesised, with no source file. */
function isRuntimeFrame(name: string, filename: string): boolean {
  return filename === '' && name.startsWith('(') && name.endsWith(')');
}

/** flamegraph.pl's "hot" palette picked by name; runtime pseudo-frames are grey so they read as not-your-code. */
export function frameColor(name: string, filename: string): string {
  const h = hash(name);
  const a = (h & 0xff) / 255;
  const b = ((h >>> 8) & 0xff) / 255;
  const c = ((h >>> 16) & 0xff) / 255;
  if (isRuntimeFrame(name, filename)) {
    const grey = Math.round(170 + 40 * a);
    return `rgb(${grey},${grey},${grey})`;
  }
  return `rgb(${Math.round(205 + 50 * a)},${Math.round(230 * b)},${Math.round(55 * c)})`;
}
