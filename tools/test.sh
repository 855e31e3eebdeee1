#!/usr/bin/env bash
# The whole test suite: format check, lint, type checks, then the unit and
# integration tests of every project against a real Kafka broker, which it
# starts (and stops) unless KAFKA_BROKERS names one.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT_DIR/tools/setup.sh"
cd "$ROOT_DIR"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

echo "test: format check"
npx prettier --check . --log-level warn

echo "test: lint and type checks"
npx nx run-many -t lint typecheck --output-style=static

echo "test: unit and integration tests"
mkdir -p tmp
log=tmp/test-output.log
status=0
bash tools/kafka/with-kafka.sh npx nx run-many -t test --output-style=static --skip-nx-cache 2>&1 \
  | tee "$log" || status=$?

# The short form of the fault-injection run, on a broker of its own: 30 s of
# traffic with kills, a broker restart, sandbox storms and a 10 s outage.
echo "test: fault-injection run, short form"
FAULTS_SECONDS=30 FAULTS_DOWN_MS=10000 FAULTS_BATCHERS=2 FAULTS_SENDERS=2 FAULTS_SEED=372473583 \
  npx nx run pipeline-e2e:faults --output-style=static --skip-nx-cache 2>&1 \
  | tee -a "$log" || status=$?

# Jest prints one "Tests: ..." line per project; add them up into one line.
node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8").replace(/\x1b\[[0-9;]*m/g, "");
  const count = (word) => [...text.matchAll(new RegExp("^Tests:.*?(\\d+) " + word, "gm"))]
    .reduce((sum, match) => sum + Number(match[1]), 0);
  console.log(`tests: ${count("passed")} passed, ${count("failed")} failed, ${count("skipped")} skipped`);
' "$log"
exit "$status"
