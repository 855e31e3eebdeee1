#!/usr/bin/env bash
# Runs a command with KAFKA_BROKERS pointing at a Kafka broker and exits with
# the command's exit code.
#
#   tools/kafka/with-kafka.sh npm run test:e2e
#
# Without KAFKA_BROKERS in the environment, it starts the local broker through
# tools/kafka/kafka.sh and stops it when the command ends, including after
# Ctrl-C or SIGTERM. A broker that was already running is left running.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_SH="$SCRIPT_DIR/kafka.sh"

if (($# == 0)); then
  echo "Usage: tools/kafka/with-kafka.sh COMMAND [ARGUMENT...]" >&2
  exit 2
fi

if [[ -n "${KAFKA_BROKERS:-}" ]]; then
  export KAFKA_BROKERS
  exec "$@"
fi

# Runs kafka.sh for the local broker. KAFKA_BROKERS is exported for the command
# below and would make kafka.sh treat the broker as an external cluster.
kafka_local() {
  env -u KAFKA_BROKERS bash "$KAFKA_SH" "$@"
}

# started_pid is set only when this script launched the broker, so only that
# broker is stopped. starting is 1 while `kafka.sh start` runs.
pid_before=""
started_pid=""
starting=0
command_pid=""

# shellcheck disable=SC2317 # Called by the EXIT trap.
stop_started_broker() {
  local current_pid
  current_pid="$(kafka_local pid 2>/dev/null)" || return 0
  # A start interrupted by Ctrl-C may have launched a broker before it was ready.
  if ((starting)) && [[ "$current_pid" != "$pid_before" ]]; then
    started_pid="$current_pid"
  fi
  # The pid check keeps a broker that someone else restarted in the meantime.
  if [[ -n "$started_pid" && "$current_pid" == "$started_pid" ]]; then
    kafka_local stop || echo "with-kafka.sh: warning: failed to stop the broker (pid $started_pid)" >&2
  fi
}

# Forwards Ctrl-C and SIGTERM to the command as SIGTERM, because bash starts
# background commands with SIGINT ignored when job control is off. Before the
# command runs, a signal ends this script.
# shellcheck disable=SC2317 # Called by the INT and TERM traps.
forward_signal() {
  local status="$1"
  if [[ -z "$command_pid" ]]; then
    exit "$status"
  fi
  kill -TERM "$command_pid" 2>/dev/null || true
}

trap stop_started_broker EXIT
trap 'forward_signal 130' INT
trap 'forward_signal 143' TERM

pid_before="$(kafka_local pid 2>/dev/null)" || pid_before=""
starting=1
kafka_local start >&2
starting=0
pid_after="$(kafka_local pid)"
if [[ "$pid_after" != "$pid_before" ]]; then
  started_pid="$pid_after"
fi

eval "$(kafka_local env)"
export KAFKA_BROKERS

# The command runs in the background so that the traps above run as soon as a
# signal arrives instead of after the command exits. `<&0` keeps its stdin,
# which bash would otherwise replace with /dev/null for a background command.
"$@" <&0 &
command_pid=$!

# `wait` returns early, with a status above 128, when a trapped signal arrives,
# so it is called again until the command has exited. Bash keeps the exit
# status of a finished background command, so the last `wait` returns it.
while kill -0 "$command_pid" 2>/dev/null; do
  wait "$command_pid" || true
done
exit_code=0
wait "$command_pid" || exit_code=$?
exit "$exit_code"
