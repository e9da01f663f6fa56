// A plain table for failures and for the summary: where, kind, status, what was proved.
export interface Row {
  readonly where: string;
  readonly kind: string;
  readonly status: string;
  readonly detail: string;
}

export function table(rows: readonly Row[]): string {
  const width = (key: keyof Row, max: number) =>
    Math.min(max, Math.max(key.length, ...rows.map((r) => r[key].length)));
  const w = { where: width('where', 48), kind: width('kind', 14), status: width('status', 8) };
  const line = (r: Row) =>
    `${r.where.padEnd(w.where)}  ${r.kind.padEnd(w.kind)}  ${r.status.padEnd(w.status)}  ${r.detail.split('\n')[0]}` +
    (r.detail.includes('\n') ? `\n${r.detail.split('\n').slice(1).join('\n').replace(/^/gm, '      ')}` : '');
  return [
    '',
    line({ where: 'where', kind: 'kind', status: 'status', detail: 'detail' }),
    ...rows.map(line),
  ].join('\n');
}

/** Fails with the table of failing rows (vitest prints the message as is, without an object diff). */
export function assertNoFailures(rows: readonly Row[]): void {
  const failed = rows.filter((r) => /^fail$/i.test(r.status));
  if (failed.length > 0) throw new Error(`${failed.length} doc sample check(s) failed:${table(failed)}`);
}
