import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/metrics.js';

/**
 * k8s/grafana-dashboard.json: an importable dashboard on a Prometheus data source variable, whose
 * queries are valid PromQL (`promtool check rules`) and name only metrics the node exports.
 */

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
}

const dashboard = JSON.parse(readFileSync(new URL('../../../k8s/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('Grafana dashboard', () => {
  it('is an importable dashboard whose panels all use the Prometheus data source variable', () => {
    expect(dashboard).toMatchObject({ uid: 'wa-tenants', title: 'wa-tenants' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((panel) => panel.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
    const titles = dashboard.panels.map((p) => p.title).join(' | ');
    for (const topic of ['Sessions by status', 'Messages stored', 'HTTP p99 latency', 'Actor restarts', 'Lease']) expect(titles).toContain(topic);
  });

  it('queries only metrics the node exports', async () => {
    const exported = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    // The supervisor's metrics register when a supervisor is observed.
    const metrics = createMetrics();
    metrics.observeSupervisor({
      onStatus: () => () => true,
      onSystemicFault: () => () => true,
      inspect: () => undefined,
      stats: () => ({ actors: 0, running: 0, failed: 0, restartsTotal: 0, lateRepliesTotal: 0, systemicFaultsTotal: 0, codeCache: undefined }),
    });
    for (const m of await metrics.registry.getMetricsAsJSON()) exported.add(m.name);
    for (const { panel, expr } of queries) {
      for (const name of expr.match(/\b(?:wa|process|nodejs)_[a-z0-9_]+/g) ?? []) {
        expect(exported.has(name.replace(/_(bucket|sum|count)$/, '')) || exported.has(name), `${panel}: ${name}`).toBe(true);
      }
    }
  });

  it('has queries that promtool accepts as PromQL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-dashboard-'));
    try {
      const rules = queries.map((q, i) => {
        const expr = q.expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
        return `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr)}`;
      });
      const file = join(dir, 'rules.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(check.error).toBeUndefined();
      expect({ status: check.status, out: check.stdout + check.stderr }).toMatchObject({ status: 0 });
      expect(check.stdout).toContain(`${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
