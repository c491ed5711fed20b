import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One line of the bench table. Every speed carries the baseline it was measured against in this run. */
export interface Row {
  suite: string;
  figure: string;
  value: number | null;
  unit: string;
  /** What the value is compared with, measured in the same run. */
  baseline?: { name: string; value: number | null } | undefined;
  /** value / baseline.value (or the inverse where lower is better, said in `ratioNote`). */
  ratio?: number | null | undefined;
  /** Human target, e.g. ">= 0.5x bare Fastify". */
  target?: string | undefined;
  /** Whether the target was met; null: not measured. */
  met?: boolean | null | undefined;
  note?: string | undefined;
}

export function ratio(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || baseline === 0 || !Number.isFinite(value) || !Number.isFinite(baseline)) return null;
  return value / baseline;
}

function fmt(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'not measured';
  const abs = Math.abs(n);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit === '' ? text : `${text} ${unit}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The Markdown table printed at the end and stored in the JSON. */
export function markdownTable(rows: readonly Row[]): string {
  const head = '| suite | figure | value | baseline (same run) | ratio | target | met |\n| --- | --- | ---: | --- | ---: | --- | --- |';
  const lines = rows.map((r) => {
    const baseline = r.baseline === undefined ? '' : `${r.baseline.name}: ${fmt(r.baseline.value, r.unit)}`;
    const ratioText = r.ratio === undefined ? '' : r.ratio === null ? '-' : `${fmt(r.ratio)}x`;
    const met = r.met === undefined ? '' : r.met === null ? 'not measured' : r.met ? 'met' : 'NOT MET';
    const value = r.value === null ? `not measured${r.note === undefined ? '' : ` (${r.note})`}` : fmt(r.value, r.unit);
    return `| ${[r.suite, r.figure, value, baseline, ratioText, r.target ?? '', met].map(cell).join(' | ')} |`;
  });
  return [head, ...lines].join('\n');
}

export interface Report {
  startedAt: string;
  durationS: number;
  mode: 'quick' | 'full';
  suites: string[];
  machine: unknown;
  rows: Row[];
  /** Per-suite raw runs (every run behind each median). */
  raw: Record<string, unknown>;
  table: string;
}

/** Writes bench/results/<timestamp>.json and latest.json; returns the path. */
export async function writeReport(dir: string, report: Report): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`;
  const text = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(join(dir, name), text);
  await writeFile(join(dir, 'latest.json'), text);
  await writeFile(join(dir, 'latest.md'), `${report.table}\n`);
  return join(dir, name);
}
