// A small SVG line chart drawn by hand (no plotting dependency): x = K (categorical: 1, 2, 4, 8), y = a rate on
// a log scale, because transports differ by orders of magnitude and a linear axis would flatten the slow ones.
import type { Chart } from '../harness/results.js';
import { fmtNumber } from './format.js';

const WIDTH = 760;
const HEIGHT = 420;
const PAD = { left: 80, right: 230, top: 48, bottom: 56 };
const PALETTE = ['#d1495b', '#2e86ab', '#edae49', '#66a182', '#8d6a9f', '#00798c', '#30638e', '#6c757d'];

/** Axis labels: "50k", "1M" rather than "50.0k", "1.00M". */
function fmtAxis(value: number): string {
  return fmtNumber(value).replace(/\.0+(?=[kMG]?$)/, '');
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderChart(chart: Chart): string {
  const ks = [...new Set(chart.series.flatMap((s) => s.points.map((p) => p.k)))].sort((a, b) => a - b);
  const values = chart.series.flatMap((s) => s.points.map((p) => p.value)).filter((v) => v > 0);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img">`,
    // A title makes the chart readable to screen readers (and Biome's a11y lint insists on it).
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2 - PAD.right / 2 + PAD.left / 2}" y="24" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  if (ks.length === 0 || values.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no data</text>`, '</svg>');
    return out.join('\n');
  }
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const decades = Math.max(1, hi - lo);
  const y = (v: number) => PAD.top + plotH - ((Math.log10(v) - lo) / decades) * plotH;
  const x = (k: number) =>
    PAD.left + (ks.length === 1 ? plotW / 2 : (ks.indexOf(k) / (ks.length - 1)) * plotW);

  // Grid: one line per decade, lighter lines at 2x and 5x.
  for (let d = lo; d <= lo + decades; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (Math.log10(v) > lo + decades + 1e-9) continue;
      const yy = y(v).toFixed(1);
      const major = m === 1;
      out.push(
        `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${yy}" y2="${yy}" stroke="${major ? '#bbbbbb' : '#e6e6e6'}"/>`,
      );
      if (major || decades <= 2) {
        out.push(
          `<text x="${PAD.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmtAxis(v)}</text>`,
        );
      }
    }
  }
  for (const k of ks) {
    const xx = x(k).toFixed(1);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#eeeeee"/>`,
      `<text x="${xx}" y="${PAD.top + plotH + 18}" text-anchor="middle">${k}</text>`,
    );
  }
  out.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#555555"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">K (reader / client processes)</text>`,
    `<text transform="translate(18 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)} (log scale)</text>`,
  );

  chart.series.forEach((series, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const width = series.kind === 'product' ? 3 : 1.5;
    const dash = series.kind === 'product' ? '' : ' stroke-dasharray="6 4"';
    const pts = series.points.filter((p) => p.value > 0).sort((a, b) => a.k - b.k);
    if (pts.length > 1) {
      const d = pts
        .map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.k).toFixed(1)} ${y(p.value).toFixed(1)}`)
        .join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"${dash}/>`);
    }
    for (const p of pts) {
      out.push(
        `<circle cx="${x(p.k).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="${series.kind === 'product' ? 4.5 : 3.5}" fill="${color}"><title>${escapeXml(`${series.name}, K=${p.k}: ${fmtNumber(p.value)}`)}</title></circle>`,
      );
    }
    const ly = PAD.top + 10 + i * 22;
    const lx = PAD.left + plotW + 18;
    out.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="${width}"${dash}/>`,
      `<text x="${lx + 32}" y="${ly}" dominant-baseline="middle">${escapeXml(series.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
