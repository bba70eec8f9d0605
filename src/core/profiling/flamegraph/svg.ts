import type { Profile } from 'pprof-format';
import { invalidArgument } from '../../errors.js';
import { uint64, uint64Key } from '../pprof/numbers.js';
import { frameColor } from './colors.js';
import { escapeXml, formatValue } from './format.js';
import { buildFrameTree, type FrameNode } from './frame-tree.js';

export interface FlameGraphOptions {
  title: string;
  /** Which sample type to draw; defaults to the profile's default_sample_type, else the last (as pprof does). */
  sampleTypeIndex?: number;
  /** Image width in px. */
  width?: number;
  /** Most frames drawn; the narrowest beyond it are left out so huge profiles stay openable. */
  maxFrames?: number;
}

const DEFAULT_FLAME_GRAPH_WIDTH = 1200;
const DEFAULT_MAX_FLAME_GRAPH_FRAMES = 20_000;
/** Frames narrower than this are invisible anyway; flamegraph.pl uses the same cut-off. */
const MIN_FRAME_WIDTH_PX = 0.1;

const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
/** Average glyph width of the font relative to its size, used to truncate names to fit. */
const CHAR_WIDTH = FONT_SIZE * 0.59;
const PAD = 10;
const HEADER = 56;

interface PlacedFrame {
  node: FrameNode;
  x: number;
  width: number;
  depth: number;
}

function chooseSampleType(profile: Profile, requested: number | undefined): number {
  const count = profile.sampleType.length;
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 0 || requested >= count) {
      throw invalidArgument('sample_type_index', `must be an integer in [0, ${count - 1}], got ${requested}`);
    }
    return requested;
  }
  const byDefault = profile.sampleType.findIndex((t) => uint64(profile.defaultSampleType) !== 0 && uint64Key(t.type) === uint64Key(profile.defaultSampleType));
  return byDefault >= 0 ? byDefault : count - 1;
}

/** Lays frames out level by level from the root: when the cap cuts in, the deepest go and no frame loses its parent. */
function placeFrames(root: FrameNode, scale: number, maxFrames: number): { placed: PlacedFrame[]; omitted: number } {
  const placed: PlacedFrame[] = [];
  let omitted = 0;
  let level: PlacedFrame[] = [{ node: root, x: PAD, width: root.value * scale, depth: 0 }];
  while (level.length > 0) {
    const next: PlacedFrame[] = [];
    for (const frame of level) {
      if (placed.length >= maxFrames) {
        omitted++;
        continue;
      }
      placed.push(frame);
      let x = frame.x;
      for (const child of frame.node.children) {
        const width = child.value * scale;
        if (width >= MIN_FRAME_WIDTH_PX) next.push({ node: child, x, width, depth: frame.depth + 1 });
        else omitted++;
        x += width;
      }
    }
    level = next;
  }
  return { placed, omitted };
}

function label(name: string, width: number): string {
  const fits = Math.floor((width - 6) / CHAR_WIDTH);
  if (fits < 3) return '';
  return name.length <= fits ? name : `${name.slice(0, fits - 2)}..`;
}

function svgDocument(width: number, height: number, body: string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    '<style>text{font-family:Verdana,sans-serif;fill:#000}.frame text{font-size:12px;pointer-events:none}.frame:hover rect{stroke:#000;stroke-width:0.5}</style>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#f8f8f8"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Renders a pprof profile as a self-contained flame graph SVG: one rect per frame, width
 * proportional to its value, the root ("all") at the bottom, a tooltip per frame.
 */
export function renderFlameGraphSvg(profile: Profile, options: FlameGraphOptions): string {
  const width = options.width ?? DEFAULT_FLAME_GRAPH_WIDTH;
  const maxFrames = options.maxFrames ?? DEFAULT_MAX_FLAME_GRAPH_FRAMES;
  if (!Number.isFinite(width) || width < 100) throw invalidArgument('width', `must be at least 100 px, got ${width}`);
  if (!Number.isInteger(maxFrames) || maxFrames < 1) throw invalidArgument('max_frames', `must be a positive integer, got ${maxFrames}`);
  const strings = profile.stringTable.strings;
  const title = `<text x="${width / 2}" y="24" text-anchor="middle" font-size="17">${escapeXml(options.title)}</text>`;

  const index = profile.sampleType.length > 0 ? chooseSampleType(profile, options.sampleTypeIndex) : -1;
  const sampleType = index >= 0 ? profile.sampleType[index] : undefined;
  const typeName = sampleType ? `${strings[uint64(sampleType.type)]} (${strings[uint64(sampleType.unit)]})` : 'no sample types';
  const unit = sampleType ? strings[uint64(sampleType.unit)] : '';
  const root = index >= 0 ? buildFrameTree(profile, index) : undefined;

  if (!root || root.value === 0) {
    const message = `No samples in this profile (${typeName})`;
    return svgDocument(width, 120, [title, `<text x="${width / 2}" y="70" text-anchor="middle" font-size="14" fill="#555">${escapeXml(message)}</text>`]);
  }

  const scale = (width - 2 * PAD) / root.value;
  const { placed, omitted } = placeFrames(root, scale, maxFrames);
  const maxDepth = placed.reduce((deepest, f) => Math.max(deepest, f.depth), 0);
  const height = HEADER + (maxDepth + 1) * FRAME_HEIGHT + PAD;
  const notDrawn = omitted > 0 ? ` · ${omitted} narrow frames not drawn` : '';
  const subtitle = `${typeName} · total ${formatValue(root.value, unit)}${notDrawn}`;

  const body = [title, `<text x="${width / 2}" y="44" text-anchor="middle" font-size="12" fill="#555">${escapeXml(subtitle)}</text>`];
  for (const { node, x, width: w, depth } of placed) {
    const y = height - PAD - (depth + 1) * FRAME_HEIGHT;
    const where = node.filename ? ` (${node.filename}${node.line > 0 ? `:${node.line}` : ''})` : '';
    const percent = ((node.value / root.value) * 100).toFixed(2);
    const tooltip = `${node.name}${where}\n${formatValue(node.value, unit)} (${percent}%)`;
    const fill = node === root ? 'rgb(230,230,230)' : frameColor(node.name, node.filename);
    const text = label(node.name, w);
    body.push(
      `<g class="frame"><title>${escapeXml(tooltip)}</title>` +
        `<rect x="${x.toFixed(3)}" y="${y}" width="${w.toFixed(3)}" height="${FRAME_HEIGHT - 1}" fill="${fill}" rx="2" ry="2"/>` +
        (text ? `<text x="${(x + 3).toFixed(3)}" y="${y + FRAME_HEIGHT - 4}">${escapeXml(text)}</text>` : '') +
        '</g>',
    );
  }
  return svgDocument(width, height, body);
}
