/**
 * Checks on the profiles and flame graphs the HTTP surfaces hand out, with the tools a user would
 * open them with: `go tool pprof`, and an XML parser for the SVG.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Profile } from 'pprof-format';
import * as assert from 'uvu/assert';
import { decodeProfile, validateProfile } from '../../../src/core/profiling/pprof/index.js';
import { runCommand } from '../../support/server.js';

/** Decodes a gzipped pprof answer and checks it against pprof's rules. */
export function validPprof(body: Uint8Array, what: string): Profile {
  assert.ok(body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b, `${what}: gzip magic`);
  const profile = decodeProfile(body);
  assert.equal(validateProfile(profile), [], `${what}: pprof rules`);
  return profile;
}

/** `go tool pprof -top` on the profile, every node shown; fails unless pprof exits 0. */
export async function pprofTop(body: Uint8Array): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rest-pprof-'));
  try {
    const file = join(dir, 'profile.pb.gz');
    writeFileSync(file, body);
    const run = await runCommand('go', ['tool', 'pprof', '-top', '-nodecount=100000', '-nodefraction=0', '-edgefraction=0', file], {
      timeoutMs: 120_000,
    });
    assert.is(run.code, 0, `go tool pprof failed: ${run.stderr}`);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Names of the profile's functions whose source is the service's own code (src/server, src/core),
 * leaving out the profiler itself, which is in every profile it takes.
 */
export function serviceFunctions(profile: Profile): string[] {
  const strings = profile.stringTable.strings;
  const names = new Set<string>();
  for (const fn of profile.function) {
    const file = strings[Number(fn.filename)] ?? '';
    const name = strings[Number(fn.name)] ?? '';
    const own = /\/src\/(server|core)\//.test(file) && !/\/src\/core\/profiling\//.test(file);
    if (own && name !== '' && name !== '(anonymous)') names.add(name);
  }
  return [...names];
}

interface SvgFacts {
  /** Number of <title> elements (one tooltip per frame). */
  titles: number;
  root: string;
}

/** Parses the SVG with Python's XML parser (a real one, not a regex) and reports what it found. */
export async function parseSvg(svg: string): Promise<SvgFacts> {
  const script = [
    'import sys, json, xml.etree.ElementTree as E',
    'root = E.fromstring(sys.stdin.buffer.read())',
    'titles = sum(1 for e in root.iter() if e.tag.endswith("}title") or e.tag == "title")',
    'print(json.dumps({"titles": titles, "root": root.tag}))',
  ].join('\n');
  const run = await runCommand('python3', ['-c', script], { input: svg });
  assert.is(run.code, 0, `the SVG is not well-formed XML: ${run.stderr}`);
  return JSON.parse(run.stdout) as SvgFacts;
}

/** A self-contained SVG loads nothing: no external hrefs, scripts, stylesheets or fonts. */
export function assertSelfContained(svg: string): void {
  assert.not.match(svg, /(?:xlink:)?href\s*=\s*["'](?!#)/, 'no href to another document');
  assert.not.match(svg, /url\(\s*["']?(?!#)/, 'no url() to another document');
  assert.not.match(svg, /@import/, 'no imported stylesheet');
  assert.not.match(svg, /<script[^>]*\ssrc=/, 'no external script');
}
