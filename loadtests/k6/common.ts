import { check, fail } from 'k6';
import encoding from 'k6/encoding';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { TrafficGenerator, type ScenarioName } from '../src/workload/generator.ts';
import { parseProfile, TRACK_LIMITS, type Profile } from '../src/workload/profile.ts';
import { readK6Settings, summaryPathOf, type K6Settings } from '../src/workload/k6-settings.ts';

/** Operations the gateway acknowledged: 1 per v1 call, the batch size per v2 batch call. */
const operationsAccepted = new Counter('operations_accepted');

/** The exports of a scenario script. */
export interface ScenarioScript {
  options: Options;
  setup: () => void;
  iterate: () => void;
  handleSummary: (data: SummaryData) => Record<string, string>;
}

/**
 * Builds a scenario script from `__ENV`: settings, options with arrival-rate
 * executors, a gateway check, one Track API call per iteration and the
 * summary handler. Runs in k6's init context, where `open()` is allowed; k6
 * resolves a relative PROFILE path against this folder.
 */
export function defineScenario(scenario: ScenarioName): ScenarioScript {
  const settings = readK6Settings(scenario, __ENV);
  const profile = parseProfile(open(settings.profilePath), settings.profilePath);
  return {
    options: buildOptions(settings),
    setup: () => {
      checkGateway(settings);
    },
    iterate: createIteration(settings, profile),
    handleSummary: (data) => summarize(settings, profile, data),
  };
}

/** Builds the k6 options: a constant arrival rate, then a ramp to a higher one, so offered load ignores latency. */
function buildOptions(settings: K6Settings): Options {
  const { arrival, thresholds } = settings;
  const options: Options = {
    scenarios: {
      steady: {
        executor: 'constant-arrival-rate',
        rate: arrival.rate,
        timeUnit: '1s',
        duration: arrival.duration,
        preAllocatedVUs: arrival.preAllocatedVUs,
        maxVUs: arrival.maxVUs,
      },
      ramp: {
        executor: 'ramping-arrival-rate',
        startTime: arrival.duration,
        startRate: arrival.rate,
        timeUnit: '1s',
        preAllocatedVUs: arrival.preAllocatedVUs,
        maxVUs: arrival.maxVUs,
        stages: [
          { target: arrival.rampTo, duration: arrival.rampDuration },
          { target: arrival.rampTo, duration: arrival.holdDuration },
        ],
      },
    },
    thresholds: {
      http_req_duration: [`p(95)<${thresholds.p95Ms}`, `p(99)<${thresholds.p99Ms}`],
      http_req_failed: [`rate<${thresholds.maxErrorRate}`],
      checks: [`rate>${1 - thresholds.maxErrorRate}`],
    },
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
  if (settings.insecureTls) {
    options.insecureSkipTLSVerify = true;
  }
  return options;
}

/** Fails the run before any load when the gateway does not report ready. */
function checkGateway(settings: K6Settings): void {
  const response = http.get(`${settings.gatewayUrl}/health/ready`, {
    tags: { name: 'GET /health/ready' },
  });
  if (response.status !== 200) {
    fail(
      `gateway at ${settings.gatewayUrl} is not ready (GET /health/ready returned ${response.status} ${response.error}): start it with npm start or set GATEWAY_URL`,
    );
  }
}

/** Returns the iteration function: one call of the scenario per iteration. */
function createIteration(settings: K6Settings, profile: Profile): () => void {
  const authorization = `Basic ${encoding.b64encode(`${settings.siteId}:${settings.apiKey}`)}`;
  // Only a 200 counts as success in http_req_failed; the generated payloads are all valid.
  http.setResponseCallback(http.expectedStatuses(200));
  let generator: TrafficGenerator | undefined;

  return () => {
    // One generator per VU, seeded by the VU number so that VUs send different people.
    if (generator === undefined) {
      generator = new TrafficGenerator(profile, {
        seed: settings.seed * 100_003 + __VU,
        maxBatchBytes: TRACK_LIMITS.maxBatchBytes,
      });
    }
    const call = generator.next(settings.scenario);
    const response = http.request(call.method, `${settings.gatewayUrl}${call.path}`, call.body, {
      headers: { authorization, 'content-type': 'application/json' },
      tags: { name: `${call.method} ${call.route}`, call: call.kind },
    });
    const accepted = check(response, {
      'status is 200': (r) => r.status === 200,
    });
    if (accepted) {
      operationsAccepted.add(call.operations, { call: call.kind });
    }
  };
}

/** The parts of k6's end-of-test summary that the text output reads. */
export interface SummaryData {
  metrics: Record<
    string,
    { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> } | undefined
  >;
}

/** Returns handleSummary's output: the full summary as JSON in `<REPORT_DIR>/k6-<scenario>.json` and a short text on stdout. */
function summarize(
  settings: K6Settings,
  profile: Pick<Profile, 'name'>,
  data: SummaryData,
): Record<string, string> {
  const path = summaryPathOf(settings);
  const report = {
    scenario: settings.scenario,
    gatewayUrl: settings.gatewayUrl,
    profile: profile.name,
    arrival: settings.arrival,
    summary: data,
  };
  return {
    [path]: `${JSON.stringify(report, null, 2)}\n`,
    stdout: textSummary(settings, profile, data, path),
  };
}

function textSummary(
  settings: K6Settings,
  profile: Pick<Profile, 'name'>,
  data: SummaryData,
  path: string,
): string {
  const value = (metric: string, stat: string): number => data.metrics[metric]?.values[stat] ?? 0;
  const failedThresholds: string[] = [];
  for (const [metric, entry] of Object.entries(data.metrics)) {
    for (const [expression, result] of Object.entries(entry?.thresholds ?? {})) {
      if (!result.ok) {
        failedThresholds.push(`${metric} ${expression}`);
      }
    }
  }
  const lines = [
    '',
    `k6 ${settings.scenario} against ${settings.gatewayUrl} (profile ${profile.name})`,
    `  requests   ${value('http_reqs', 'count')} (${value('http_reqs', 'rate').toFixed(1)}/s)`,
    `  operations ${value('operations_accepted', 'count')} accepted (${value('operations_accepted', 'rate').toFixed(1)}/s)`,
    `  latency    p50 ${value('http_req_duration', 'med').toFixed(1)} ms, p95 ${value('http_req_duration', 'p(95)').toFixed(1)} ms, p99 ${value('http_req_duration', 'p(99)').toFixed(1)} ms`,
    `  failed     ${(value('http_req_failed', 'rate') * 100).toFixed(2)} % of requests, ${value('dropped_iterations', 'count')} dropped iterations`,
    failedThresholds.length === 0
      ? '  thresholds all passed'
      : `  thresholds FAILED: ${failedThresholds.join(', ')}`,
    `  summary written to ${path}`,
    '',
  ];
  return lines.join('\n');
}
