/** A sample value with its pprof unit, in the largest unit that keeps it readable. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'nanoseconds') {
    if (value >= 1e9) return `${(value / 1e9).toFixed(2)} s`;
    if (value >= 1e6) return `${(value / 1e6).toFixed(2)} ms`;
    if (value >= 1e3) return `${(value / 1e3).toFixed(2)} µs`;
    return `${value} ns`;
  }
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let scaled = value;
    let i = 0;
    while (scaled >= 1024 && i < units.length - 1) {
      scaled /= 1024;
      i++;
    }
    return i === 0 ? `${value} B` : `${scaled.toFixed(2)} ${units[i]}`;
  }
  return `${value} ${unit}`;
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for XML; control characters, which XML 1.0 cannot carry at all, become U+FFFD. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (ch) => XML_ENTITIES[ch] ?? '\ufffd');
}
