import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/http/metrics.js';

// docs/grafana-dashboard.json asks only for what the service exposes: every metric name of every
// panel's PromQL, and every label it groups or filters by, is one a scrape of /metrics holds.
interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
}
interface Dashboard {
  schemaVersion: number;
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; definition?: string }> };
}

const dashboard = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../docs/grafana-dashboard.json'), 'utf8'),
) as Dashboard;
const queries = dashboard.panels.filter((p) => p.type !== 'row');

/** Labels Prometheus adds to every series it scrapes (the target's), beside the service's own. */
const TARGET_LABELS = ['instance', 'job'];
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/** Metric name → its label names, as a scrape of a Metrics instance shows them (histogram series by suffix). */
const exposed = new Map<string, Set<string>>();

beforeAll(async () => {
  const metrics = new Metrics({ pendingDeliveries: async () => 0, logger: pino({ level: 'silent' }) });
  // One sample of every labelled series, so that the scrape shows each label.
  metrics.entries('link', 200, 1);
  metrics.observeRequest('GET', '/health', 200, 0.001);
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    exposed.set(metric.name, new Set());
    for (const value of metric.values as Array<{ metricName?: string; labels: Record<string, unknown> }>) {
      const name = value.metricName ?? metric.name;
      const labels = exposed.get(name) ?? new Set<string>();
      for (const label of Object.keys(value.labels)) labels.add(label);
      exposed.set(name, labels);
    }
  }
});

/** What one PromQL expression names: its metrics, and the labels of its matchers and its by/without clauses. */
function read(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  rest = rest.replace(/\{([^}]*)\}/g, (_, matchers: string) => {
    for (const m of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(m[1]!);
    return ' ';
  });
  rest = rest.replace(/\b(?:by|without)\s*\(([^)]*)\)/g, (_, names: string) => {
    labels.push(
      ...names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    );
    return ' ';
  });
  const metrics = [...rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !PROMQL_WORDS.has(m[1]!))
    .map((m) => m[1]!);
  return { metrics, labels };
}

describe('docs/grafana-dashboard.json', () => {
  it('is a dashboard of schema 39 on a templated Prometheus data source', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toBe('partner-programs');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of queries) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.datasource).toEqual(panel.datasource);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('has the panels an operator needs', () => {
    expect(queries.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Request rate by route',
        'Latency p50 by route',
        'Latency p99 by route',
        'Program entries by code',
        'Scheduler transitions by kind',
        'Webhook attempt outcomes',
        'Webhook backlog',
        'Events created by event',
        'Process CPU',
        'Heap',
      ]),
    );
    const exprOf = (title: string) =>
      queries
        .find((p) => p.title === title)!
        .targets!.map((t) => t.expr)
        .join('\n');
    expect(exprOf('Latency p99 by route')).toMatch(
      /^histogram_quantile\(0\.99, sum by \(le, route\) \(rate\(http_request_duration_seconds_bucket/,
    );
    expect(exprOf('Program entries by code')).toContain('sum by (endpoint, code) (rate(partner_program_entries_total');
  });

  it('asks only for metrics the service exposes, by labels they have', () => {
    expect(exposed.size).toBeGreaterThan(10);
    const problems: string[] = [];
    const expressions = [
      ...queries.flatMap((p) => p.targets!.map((t) => ({ where: `${p.title} ${t.refId}`, expr: t.expr }))),
      ...dashboard.templating.list.flatMap((v) =>
        v.definition ? [{ where: `variable ${v.name}`, expr: v.definition }] : [],
      ),
    ];
    for (const { where, expr } of expressions) {
      const { metrics, labels } = read(expr.replace(/^label_values\((\w+),\s*(\w+)\)$/, '$1{$2=""}'));
      if (metrics.length === 0) problems.push(`${where}: names no metric: ${expr}`);
      for (const metric of metrics) {
        const known = exposed.get(metric);
        if (!known) {
          problems.push(`${where}: ${metric} is not exposed`);
          continue;
        }
        for (const label of labels) {
          if (!known.has(label) && !TARGET_LABELS.includes(label))
            problems.push(`${where}: ${metric} has no label ${label}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('reads PromQL as this test means to', () => {
    expect(
      read('sum by (le, route) (rate(http_request_duration_seconds_bucket{instance=~"$instance", route!="x"}[5m]))'),
    ).toEqual({
      metrics: ['http_request_duration_seconds_bucket'],
      labels: ['instance', 'route', 'le', 'route'],
    });
    expect(read('max(webhook_deliveries_pending)').metrics).toEqual(['webhook_deliveries_pending']);
  });
});
