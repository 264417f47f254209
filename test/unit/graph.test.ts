// The incident graph renders in-process to a real PNG: decode it and check it is the size asked
// for and actually drawn (not a blank canvas). The PNG is kept under test-results/ to look at.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { renderGraphPng, renderGraphSvg } from '../../src/graphs/render.js';
import { ROOT } from '../support/paths.js';

const t0 = Date.parse('2026-11-25T10:00:00Z');
const input = {
  title: 'demo_up{service="demo"} — last hour',
  series: [{ name: 'demo_up', points: Array.from({ length: 120 }, (_, i) => ({ t: t0 + i * 30_000, v: i >= 70 && i < 80 ? 0 : 1 })) }],
  threshold: 0.5,
  marks: [
    { t: t0 + 72 * 30_000, label: 'restart' },
    { t: t0 + 80 * 30_000, label: 'verified' },
  ],
};

describe('incident graph', () => {
  it('renders SVG with the threshold, the action markers and their labels', async () => {
    const svg = await renderGraphSvg(input);
    expect(svg).toContain('<svg');
    expect(svg).toContain('restart');
    expect(svg).toContain('verified');
    expect(svg).toContain('demo_up{service=&quot;demo&quot;}');
  });

  it('rasterizes to a non-trivial PNG of the requested size', async () => {
    const png = await renderGraphPng(input);
    const out = join(ROOT, 'test-results');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'incident-graph.png'), png);
    const image = PNG.sync.read(png);
    // the chart area plus title, axes and padding
    expect(image.width).toBeGreaterThanOrEqual(640);
    expect(image.height).toBeGreaterThanOrEqual(240);
    // count distinct colours and non-white pixels: a blank or single-colour image fails
    const colours = new Set<number>();
    let ink = 0;
    for (let i = 0; i < image.data.length; i += 4) {
      const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (r < 240 || g < 240 || b < 240) ink += 1;
    }
    expect(colours.size).toBeGreaterThan(20);
    expect(ink / (image.width * image.height)).toBeGreaterThan(0.01);
    // the red threshold and green markers are really drawn
    const has = (pred: (r: number, g: number, b: number) => boolean): boolean => {
      for (let i = 0; i < image.data.length; i += 4) if (pred(image.data[i]!, image.data[i + 1]!, image.data[i + 2]!)) return true;
      return false;
    };
    expect(has((r, g, b) => r > 180 && r - g > 60 && r - b > 60)).toBe(true); // threshold (red, dashed)
    expect(has((r, g, b) => g > 120 && g - r > 60 && g - b > 60)).toBe(true); // action markers (green)
  });
});
