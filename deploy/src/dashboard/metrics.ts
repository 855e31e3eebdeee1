/** A Prometheus metric that the dashboard may query: its type and label names. */
export interface MetricDefinition {
  type: 'counter' | 'gauge' | 'histogram';
  labels: readonly string[];
}

/**
 * The metrics the services expose at /metrics, by exact name. The last two
 * come from prom-client's `collectDefaultMetrics`, the others from the
 * services' own registries.
 */
export const PIPELINE_METRICS: Readonly<Record<string, MetricDefinition>> = {
  cio_gateway_requests_total: { type: 'counter', labels: ['route', 'status'] },
  cio_gateway_operations_total: { type: 'counter', labels: ['workspace', 'result'] },
  cio_gateway_rejections_total: { type: 'counter', labels: ['reason'] },
  cio_gateway_produce_latency_seconds: { type: 'histogram', labels: [] },
  cio_batcher_batches_total: { type: 'counter', labels: ['workspace'] },
  cio_batcher_batch_bytes: { type: 'histogram', labels: [] },
  cio_batcher_batch_operations: { type: 'histogram', labels: [] },
  cio_consumer_lag: { type: 'gauge', labels: ['group', 'topic', 'partition'] },
  cio_sender_requests_total: { type: 'counter', labels: ['workspace', 'status'] },
  cio_sender_limiter_queued: { type: 'gauge', labels: ['workspace'] },
  cio_sender_limiter_rate: { type: 'gauge', labels: ['workspace'] },
  cio_sender_throttled_total: { type: 'counter', labels: ['workspace'] },
  cio_sender_retries_total: { type: 'counter', labels: ['workspace', 'reason'] },
  cio_sender_dead_letters_total: { type: 'counter', labels: ['workspace', 'reason'] },
  cio_delivery_latency_seconds: { type: 'histogram', labels: [] },
  process_resident_memory_bytes: { type: 'gauge', labels: [] },
  nodejs_eventloop_lag_seconds: { type: 'gauge', labels: [] },
};

/** Metrics that prom-client's default collector defines, not the services' sources. */
export const DEFAULT_PROCESS_METRICS = new Set([
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
]);

/** Labels Prometheus's Kubernetes service discovery adds to every scraped series. */
export const TARGET_LABELS: readonly string[] = ['namespace', 'pod', 'job', 'instance'];

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** PromQL functions, aggregations and keywords the dashboard may use. */
const PROMQL_WORDS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'topk',
  'bottomk',
  'rate',
  'irate',
  'increase',
  'delta',
  'deriv',
  'histogram_quantile',
  'max_over_time',
  'avg_over_time',
  'clamp_min',
  'clamp_max',
  'abs',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'label_values',
]);

/** The series selected by a PromQL expression and the labels it groups or filters by. */
export interface QueryUse {
  /** Metric names as written, such as `cio_batcher_batch_bytes_bucket`. */
  series: string[];
  /** Label names in `{…}` selectors, with the series they filter. */
  matchers: { series: string; label: string }[];
  /** Label names in `by (…)` and `without (…)`, and the second argument of label_values. */
  groupings: string[];
}

/**
 * Extracts the series and labels of a PromQL expression or a Grafana
 * `label_values(metric, label)` query. Grafana variables (`$workspace`,
 * `$__rate_interval`), strings and range durations are ignored. Identifiers
 * that are neither PromQL words nor metric names are returned as series, so
 * the caller rejects them as unknown metrics.
 */
export function parseQuery(query: string): QueryUse {
  const matchers: QueryUse['matchers'] = [];
  const groupings: string[] = [];
  let text = query
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\$\{?\w+\}?/g, '')
    .replace(/\[[^\]]*\]/g, '');

  text = text.replace(
    /([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g,
    (_match, series: string, body: string) => {
      for (const matcher of body.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
        matchers.push({ series, label: matcher[1] ?? '' });
      }
      return ` ${series} `;
    },
  );
  text = text.replace(/\b(?:by|without)\s*\(([^)]*)\)/g, (_match, body: string) => {
    groupings.push(...splitNames(body));
    return ' ';
  });
  text = text.replace(
    /\blabel_values\s*\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)/g,
    (_m, series: string, label: string) => {
      groupings.push(label);
      return ` ${series} `;
    },
  );

  const series = [...text.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)/g)]
    .map((match) => match[1] ?? '')
    .filter((word) => !PROMQL_WORDS.has(word));
  return { series: [...new Set(series)], matchers, groupings: [...new Set(groupings)] };
}

/** Finds the catalogue entry of a series name, accepting `_bucket`, `_sum` and `_count` of histograms. */
export function metricOf(
  series: string,
): { name: string; definition: MetricDefinition } | undefined {
  const direct = PIPELINE_METRICS[series];
  if (direct !== undefined) {
    return { name: series, definition: direct };
  }
  for (const suffix of HISTOGRAM_SUFFIXES) {
    const name = series.endsWith(suffix) ? series.slice(0, -suffix.length) : undefined;
    const definition = name === undefined ? undefined : PIPELINE_METRICS[name];
    if (name !== undefined && definition?.type === 'histogram') {
      return { name, definition };
    }
  }
  return undefined;
}

function splitNames(list: string): string[] {
  return list
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}
