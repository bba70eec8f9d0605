/**
 * A strict reader of Prometheus text 0.0.4 / OpenMetrics 1.0 expositions for tests: it throws on any
 * malformed line, a sample outside its declared family, a repeated series, or (OpenMetrics) a missing
 * `# EOF` or a negative counter-like sample or quantile. Returns the samples so tests can look values up.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
}

export interface Exposition {
  families: Map<string, Family>;
  samples: Sample[];
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(\\{(?:${LABEL}(?:,${LABEL})*)?\\})? (\\S+)$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown']);

const SUFFIXES: Record<string, string[]> = {
  counter: ['_total'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parseExposition(body: string, openMetrics: boolean): Exposition {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const lines = body.split('\n');
  if (lines.pop() !== '') throw new Error('exposition must end with a newline');
  if (openMetrics && lines.pop() !== '# EOF') throw new Error('OpenMetrics exposition must end with "# EOF"');
  let current: Family | undefined;
  const helps = new Map<string, string>();

  lines.forEach((line, i) => {
    const where = `line ${i + 1} "${line}"`;
    if (line === '') {
      if (openMetrics) throw new Error(`${where}: blank lines are not allowed in OpenMetrics`);
      return;
    }
    if (line.startsWith('# HELP ')) {
      const [, name, ...help] = line.split(' ').slice(1);
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`${where}: bad metric name`);
      helps.set(name, unescapeHelp(help.join(' '), openMetrics, where));
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const parts = line.split(' ');
      if (parts.length !== 4 || !TYPES.has(parts[3])) throw new Error(`${where}: bad TYPE line`);
      const name = parts[2];
      if (families.has(name)) throw new Error(`${where}: family declared twice`);
      current = { name, type: parts[3], help: helps.get(name) ?? '' };
      families.set(name, current);
      return;
    }
    if (line.startsWith('#')) throw new Error(`${where}: unexpected comment`);
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${where}: malformed sample`);
    const [, name, labelText, valueText] = m;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText !== 'NaN' && Number.isNaN(value)) throw new Error(`${where}: bad value`);
    if (!current) throw new Error(`${where}: sample before any TYPE line`);
    const family = current;
    const allowed = (SUFFIXES[family.type] ?? ['']).map((s) => family.name + s);
    // The Prometheus text format names a counter family with its `_total` already.
    if (!openMetrics && family.type === 'counter') allowed.push(family.name);
    if (!allowed.includes(name)) throw new Error(`${where}: sample outside family ${family.name} (${family.type})`);
    const labels: Record<string, string> = {};
    for (const lm of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (lm[1] in labels) throw new Error(`${where}: label ${lm[1]} repeated`);
      labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    if (openMetrics && value < 0) {
      // OpenMetrics: counter-like samples (a counter's, a histogram's, a summary's _sum and _count)
      // and summary quantiles must not be negative.
      const suffix = name.slice(family.name.length);
      if (suffix !== '' || family.type === 'summary') throw new Error(`${where}: a negative ${suffix || 'quantile'} is not allowed in OpenMetrics`);
    }
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`${where}: series repeated`);
    seen.add(id);
    samples.push({ name, labels, value });
  });

  return {
    families,
    samples,
    value(name, labels = {}) {
      const want = JSON.stringify(Object.entries(labels).sort());
      return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
    },
  };
}

/**
 * HELP text: the Prometheus text format escapes `\\` and `\n` (a `"` is itself); OpenMetrics
 * escapes `\\`, `\n` and `\"`, and a raw `"` is malformed. Returns the text unescaped.
 */
function unescapeHelp(text: string, openMetrics: boolean, where: string): string {
  const escape = openMetrics ? /\\([\\n"])|(\\)|(")/g : /\\([\\n])|(\\)|(\0)/g;
  return text.replace(escape, (_, escaped: string | undefined, lone: string | undefined, quote: string | undefined) => {
    if (lone !== undefined) throw new Error(`${where}: a backslash in HELP must escape \\, n${openMetrics ? ' or "' : ''}`);
    if (quote !== undefined) throw new Error(`${where}: a " in OpenMetrics HELP must be escaped as \\"`);
    return escaped === 'n' ? '\n' : escaped!;
  });
}
