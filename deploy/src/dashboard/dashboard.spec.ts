import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOY_DIR, REPO_ROOT } from '../paths';
import { readRepoFile } from '../sources/service-sources';
import {
  DEFAULT_PROCESS_METRICS,
  metricOf,
  parseQuery,
  PIPELINE_METRICS,
  TARGET_LABELS,
} from './metrics';

interface Target {
  expr: string;
  datasource?: { uid?: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

const DASHBOARD_FILE = join(DEPLOY_DIR, 'grafana', 'pipeline-dashboard.json');

function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Lists every PromQL query of the dashboard with the panel or variable it belongs to. */
function queries(dashboard: Dashboard): { where: string; query: string }[] {
  const fromPanels = allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `panel "${panel.title}"`,
      query: target.expr,
    })),
  );
  const fromVariables = dashboard.templating.list.flatMap((variable) => {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    return variable.type === 'query' && query !== undefined
      ? [{ where: `variable ${variable.name}`, query }]
      : [];
  });
  return [...fromPanels, ...fromVariables];
}

/** Checks one query's series and labels against PIPELINE_METRICS; returns the metrics it uses. */
function checkQuery(where: string, query: string, problems: string[]): string[] {
  const use = parseQuery(query);
  const metrics: string[] = [];
  const labels = new Set(TARGET_LABELS);
  for (const series of use.series) {
    const metric = metricOf(series);
    if (metric === undefined) {
      problems.push(`${where}: ${series} is not a known metric`);
      continue;
    }
    metrics.push(metric.name);
    metric.definition.labels.forEach((name) => labels.add(name));
    if (metric.definition.type === 'histogram') {
      labels.add('le');
    }
  }
  for (const { series, label } of use.matchers) {
    const metric = metricOf(series);
    const allowed = [...(metric?.definition.labels ?? []), ...TARGET_LABELS];
    if (!allowed.includes(label)) {
      problems.push(`${where}: ${series} has no label ${label}`);
    }
  }
  for (const label of use.groupings) {
    if (!labels.has(label)) {
      problems.push(`${where}: groups by ${label}, which none of its metrics has`);
    }
  }
  if (use.series.length === 0) {
    problems.push(`${where}: the query selects no metric`);
  }
  return metrics;
}

describe('Grafana dashboard', () => {
  it('parses with unique panel ids', () => {
    const dashboard = readDashboard();
    expect(dashboard.uid).toBe('cio-pipeline');
    const ids = allPanels(dashboard.panels).map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('queries the selected data source', () => {
    const problems: string[] = [];
    for (const panel of allPanels(readDashboard().panels)) {
      if (panel.type === 'row') {
        continue;
      }
      if (panel.datasource?.uid !== '${datasource}') {
        problems.push(`panel "${panel.title}" does not use the datasource variable`);
      }
      for (const target of panel.targets ?? []) {
        if (target.datasource?.uid !== '${datasource}') {
          problems.push(`panel "${panel.title}" has a query on another data source`);
        }
      }
      if ((panel.targets ?? []).length === 0) {
        problems.push(`panel "${panel.title}" has no query`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('uses only listed metrics and labels', () => {
    const problems: string[] = [];
    for (const { where, query } of queries(readDashboard())) {
      checkQuery(where, query, problems);
    }
    expect(problems).toEqual([]);
  });

  it('charts every listed metric', () => {
    const problems: string[] = [];
    const used = new Set(
      allPanels(readDashboard().panels).flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) => checkQuery(panel.title, target.expr, problems)),
      ),
    );
    expect(Object.keys(PIPELINE_METRICS).filter((name) => !used.has(name))).toEqual([]);
  });

  it('reports unknown metrics and labels', () => {
    const problems: string[] = [];
    checkQuery('test', 'sum by (route) (rate(cio_gateway_request_total[5m]))', problems);
    checkQuery('test', 'sum(rate(cio_sender_requests_total{region="us"}[5m]))', problems);
    checkQuery(
      'test',
      'histogram_quantile(0.9, sum by (le) (rate(cio_consumer_lag_bucket[5m])))',
      problems,
    );
    expect(problems).toEqual([
      'test: cio_gateway_request_total is not a known metric',
      'test: groups by route, which none of its metrics has',
      'test: cio_sender_requests_total has no label region',
      'test: cio_consumer_lag_bucket is not a known metric',
      'test: groups by le, which none of its metrics has',
    ]);
  });
});

describe('metric catalogue', () => {
  // The services define their metrics in apps/*/src/metrics and libs/health
  // with prom-client: `name: '…'` followed by `labelNames: [...]`.
  const sources = ['apps', 'libs']
    .flatMap((folder) => listSources(join(REPO_ROOT, folder)))
    .map((file) => readRepoFile(file))
    .join('\n');

  it.each(Object.keys(PIPELINE_METRICS).filter((name) => !DEFAULT_PROCESS_METRICS.has(name)))(
    '%s matches its definition in the sources',
    (name) => {
      const start = sources.indexOf(`name: '${name}'`);
      expect(start).toBeGreaterThanOrEqual(0);
      const next = sources.indexOf("name: '", start + 1);
      const definition = sources.slice(start, next < 0 ? undefined : next);
      const labels = /labelNames:\s*\[([^\]]*)\]/.exec(definition)?.[1] ?? '';
      const names = [...labels.matchAll(/'(\w+)'/g)].map((match) => match[1]);
      expect(names).toEqual(PIPELINE_METRICS[name]?.labels);
    },
  );

  it('collects the default process metrics', () => {
    expect(sources).toContain('collectDefaultMetrics(');
  });
});

function listSources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      return entry === 'node_modules' ? [] : listSources(path);
    }
    return entry.endsWith('.ts') && !entry.endsWith('.spec.ts')
      ? [path.slice(REPO_ROOT.length + 1)]
      : [];
  });
}
