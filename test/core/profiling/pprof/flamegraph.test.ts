import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObservabilityError } from '../../../../src/core/errors.js';
import { renderFlameGraphSvg } from '../../../../src/core/profiling/pprof/index.js';
import { syntheticCpuProfile } from './sample-profiles.js';

interface DrawnFrame {
  tooltip: string;
  x: number;
  width: number;
  fill: string;
  text: string;
}

function frames(svg: string): DrawnFrame[] {
  const pattern = /<g class="frame"><title>([^<]*)<\/title><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="\d+" fill="([^"]+)"[^>]*\/>(?:<text [^>]*>([^<]*)<\/text>)?<\/g>/g;
  return [...svg.matchAll(pattern)].map((m) => ({ tooltip: m[1], x: Number(m[2]), width: Number(m[3]), fill: m[4], text: m[5] ?? '' }));
}

function frameNamed(svg: string, name: string): DrawnFrame {
  const found = frames(svg).find((f) => f.tooltip.split(' (')[0].split('\n')[0] === name);
  if (!found) throw new Error(`no frame ${name}`);
  return found;
}

/** Well-formedness: balanced tags, and no raw '<' or stray '&' in text or attributes. */
function assertWellFormedXml(svg: string): void {
  const body = svg.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < body.length) {
    if (body[i] === '<') {
      tag.lastIndex = i;
      const m = tag.exec(body);
      assert.ok(m, `malformed tag at ${i}: ${body.slice(i, i + 40)}`);
      if (m[1]) assert.is(stack.pop(), m[2], 'closing tag matches');
      else if (!m[4]) stack.push(m[2]);
      for (const value of m[3].matchAll(/="([^"]*)"/g)) assert.not.match(value[1], /&(?!(amp|lt|gt|quot|apos);)/);
      i = tag.lastIndex;
    } else {
      const next = body.indexOf('<', i);
      const text = body.slice(i, next === -1 ? body.length : next);
      assert.not.match(text, /&(?!(amp|lt|gt|quot|apos);)/, 'entities in text');
      i = next === -1 ? body.length : next;
    }
  }
  assert.equal(stack, [], 'all tags closed');
}

const ms = 1_000_000;
const profile = syntheticCpuProfile([
  { stack: ['main', 'handle'], values: [3, 30 * ms] },
  { stack: ['main', 'parse'], values: [1, 10 * ms] },
  { stack: ['(garbage collector)'], values: [6, 60 * ms] },
]);

test('frame widths are proportional to their values', () => {
  const svg = renderFlameGraphSvg(profile, { title: 'CPU', width: 1200 });
  const full = frameNamed(svg, 'all').width;
  assert.ok(Math.abs(full - 1180) < 0.01);
  const expected: Record<string, number> = { main: 0.4, handle: 0.3, parse: 0.1, '(garbage collector)': 0.6 };
  for (const [name, share] of Object.entries(expected)) {
    assert.ok(Math.abs(frameNamed(svg, name).width / full - share) < 1e-4, `${name} width`);
  }
  // Children sit inside their parent, side by side.
  const main = frameNamed(svg, 'main');
  const handle = frameNamed(svg, 'handle');
  const parse = frameNamed(svg, 'parse');
  assert.ok(handle.x >= main.x && parse.x + parse.width <= main.x + main.width + 0.01);
  assertWellFormedXml(svg);
});

test('the default sample type is the profile default (wall), and another can be chosen', () => {
  const byDefault = renderFlameGraphSvg(profile, { title: 'CPU' });
  assert.match(byDefault, /wall \(nanoseconds\) · total 100\.00 ms/);
  assert.match(frameNamed(byDefault, 'handle').tooltip, /^handle \(\/app\/handle\.js:2\)\n30\.00 ms \(30\.00%\)$/);
  const bySamples = renderFlameGraphSvg(profile, { title: 'CPU', sampleTypeIndex: 0 });
  assert.match(bySamples, /samples \(count\) · total 10 count/);
  assert.match(frameNamed(bySamples, 'parse').tooltip, /\n1 count \(10\.00%\)$/);
  const err = (() => {
    try {
      renderFlameGraphSvg(profile, { title: 'x', sampleTypeIndex: 2 });
    } catch (e) {
      return e as ObservabilityError;
    }
  })();
  assert.is(err?.kind, 'invalid_argument');
  assert.is(err?.field, 'sample_type_index');
});

test('function names and the title are XML-escaped', () => {
  const nasty = `<lambda> & "quoted" 'x'`;
  const svg = renderFlameGraphSvg(syntheticCpuProfile([{ stack: ['main', nasty], values: [1, 50 * ms] }]), { title: 'a < b & c' });
  assert.not.ok(svg.includes(nasty));
  assert.ok(svg.includes('&lt;lambda&gt; &amp; &quot;quoted&quot; &apos;x&apos;'));
  assert.ok(svg.includes('a &lt; b &amp; c'));
  assertWellFormedXml(svg);
});

test('long names are truncated to fit their frame', () => {
  const long = `veryLongFunctionName${'X'.repeat(200)}`;
  const svg = renderFlameGraphSvg(
    syntheticCpuProfile([
      { stack: [long], values: [1, 5 * ms] },
      { stack: ['other'], values: [1, 95 * ms] },
    ]),
    { title: 'CPU', width: 1200 },
  );
  const frame = frameNamed(svg, long);
  assert.ok(frame.text.endsWith('..'), frame.text);
  assert.ok(frame.text.length * 12 * 0.59 <= frame.width, 'text fits the frame');
  assert.ok(frame.tooltip.startsWith(long), 'the tooltip keeps the full name');
});

test('colours are deterministic by name and pseudo-frames are grey', () => {
  const a = renderFlameGraphSvg(profile, { title: 'one' });
  const b = renderFlameGraphSvg(syntheticCpuProfile([{ stack: ['x', 'handle'], values: [1, 1] }]), { title: 'two' });
  assert.is(frameNamed(a, 'handle').fill, frameNamed(b, 'handle').fill);
  assert.is.not(frameNamed(a, 'handle').fill, frameNamed(a, 'parse').fill);
  assert.match(frameNamed(a, '(garbage collector)').fill, /^rgb\((\d+),\1,\1\)$/);
  const anonymous = renderFlameGraphSvg(syntheticCpuProfile([{ stack: ['main', '(anonymous)'], values: [1, 1] }]), { title: 'x' });
  assert.not.match(frameNamed(anonymous, '(anonymous)').fill, /^rgb\((\d+),\1,\1\)$/, 'anonymous functions are code, not runtime');
});

test('frames too narrow to see and frames over the cap are not drawn', () => {
  const tiny = syntheticCpuProfile([
    { stack: ['main', 'big'], values: [1, 1_000_000_000] },
    { stack: ['main', 'tiny'], values: [1, 1] },
  ]);
  const svg = renderFlameGraphSvg(tiny, { title: 'CPU' });
  assert.throws(() => frameNamed(svg, 'tiny'));
  assert.match(svg, /1 narrow frames not drawn/);
  const capped = renderFlameGraphSvg(profile, { title: 'CPU', maxFrames: 3 });
  assert.is(frames(capped).length, 3);
  assert.equal(
    frames(capped).map((f) => f.tooltip.split(/[ \n]/)[0]),
    ['all', 'main', '(garbage'],
    'the root and its children are kept, deeper frames go',
  );
});

test('an empty profile gives a valid SVG that says so', () => {
  const svg = renderFlameGraphSvg(syntheticCpuProfile([]), { title: 'Idle service' });
  assert.ok(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.match(svg, /No samples in this profile \(wall \(nanoseconds\)\)/);
  assert.is(frames(svg).length, 0);
  assertWellFormedXml(svg);
});

test('the SVG is self-contained', () => {
  const svg = renderFlameGraphSvg(profile, { title: 'CPU' });
  assert.not.match(svg, /href|url\(|@import|<script|<image/);
});

test.run();
