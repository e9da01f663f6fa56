// Number formatting shared by the Markdown page and the chart: 3 significant digits and an SI suffix where the
// unit is a rate, so "2.35M msg/s" reads at a glance.

export function fmtNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

export function fmtValue(value: number, unit: string): string {
  if (unit === 'x') return `${value.toFixed(2)}x`;
  if (unit === '%') return `${value < 10 ? value.toFixed(2) : value.toFixed(1)}%`;
  return `${fmtNumber(value)} ${unit}`;
}
