// The guarantee: every fenced block carries a classification that fits it, else a failure naming file:line.
import { type Block, KINDS, where } from './extract.js';
import type { Row } from './report.js';
import { kindFits } from './static-checks.js';

export function classificationFailures(blocks: readonly Block[]): Row[] {
  const rows: Row[] = [];
  for (const block of blocks) {
    if (!block.annotation) {
      rows.push({
        where: where(block),
        kind: block.lang || '(no lang)',
        status: 'FAIL',
        detail:
          block.annotationError ??
          `unclassified: put <!-- sample: <kind> --> right above the fence (${KINDS.join(', ')}; see CONTRIBUTING.md)`,
      });
      continue;
    }
    const fits = kindFits(block);
    if (!fits.ok)
      rows.push({ where: where(block), kind: block.annotation.kind, status: 'FAIL', detail: fits.detail });
  }
  return rows;
}
