#!/usr/bin/env bash
# Runs the local stack (start) or the demo (demo) with a Kafka broker.
#
#   tools/run.sh start   the pipeline in the foreground until Ctrl-C
#   tools/run.sh demo    replay traffic, check delivery, write reports/demo.json
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  start) entry=dist/apps/demo/src/start.js ;;
  demo) entry=dist/apps/demo/src/main.js ;;
  *)
    echo "Usage: tools/run.sh start|demo" >&2
    exit 2
    ;;
esac

bash "$ROOT_DIR/tools/setup.sh"
cd "$ROOT_DIR"
exec bash tools/kafka/with-kafka.sh node "$entry"
