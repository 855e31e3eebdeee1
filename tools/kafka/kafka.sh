#!/usr/bin/env bash
# Provides a single-node Apache Kafka broker in KRaft mode on 127.0.0.1 for
# local runs, tests and CI. The jars come from Maven Central through
# tools/kafka/pom.xml, so no Kafka download or Docker is needed.
# Run `tools/kafka/kafka.sh help` for the subcommands and settings.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM_FILE="$SCRIPT_DIR/pom.xml"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/cio-pipeline"
LIB_DIR="${KAFKA_CACHE_DIR:-$CACHE_ROOT/kafka-$KAFKA_VERSION/lib}"
STATE_DIR="${KAFKA_STATE_DIR:-$REPO_ROOT/tmp/kafka}"

# Relative paths are taken from the caller's directory. They are made absolute
# because the broker's command line, which identifies it later, contains them.
[[ "$LIB_DIR" == /* ]] || LIB_DIR="$PWD/$LIB_DIR"
[[ "$STATE_DIR" == /* ]] || STATE_DIR="$PWD/$STATE_DIR"

BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
PID_FILE="$STATE_DIR/broker.pid"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
SERVER_LOG="$LOG_DIR/server.log"
CONSOLE_LOG="$LOG_DIR/kafka.out"
SERVER_PROPERTIES="$STATE_DIR/server.properties"
BROKER_LOG4J="$STATE_DIR/log4j2.properties"
TOOLS_LOG4J="$STATE_DIR/tools-log4j2.properties"
LIB_MARKER=".complete"
# Logged by KafkaRaftServer after the broker is unfenced and enables request
# processing (order seen in the Kafka 4.1.1 server log).
STARTED_LINE="Kafka Server started"

JAVA_BIN=""

usage() {
  cat <<EOF
Usage: tools/kafka/kafka.sh COMMAND

Commands:
  ensure    Resolve the Kafka jars from Maven Central into the cache. Only the first
            run for a Kafka version and pom.xml downloads.
  start     Start the broker in the background and wait until it serves requests.
            Reuses a healthy broker that runs from the same state folder.
  stop      Stop the broker (SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT).
  restart   Stop, then start the broker. Topics and offsets are kept.
  status    Print whether the broker runs and serves requests.
            Exit code: 0 serving, 1 running but not serving, 3 not running.
  reset     Stop the broker and delete the state folder (topics, offsets, logs).
  env       Print KAFKA_BROKERS=<bootstrap address> for use with eval.
  pid       Print the broker's process id. Exit code 3 when it does not run.
  help      Print this text.

When KAFKA_BROKERS is set, start, stop, restart and reset do nothing, status and
env print that address, and the external cluster is used.

Settings (environment variables):
  KAFKA_VERSION          Kafka release to resolve (default 4.1.1)
  KAFKA_PORT             broker port on 127.0.0.1 (default 19092)
  KAFKA_CONTROLLER_PORT  KRaft controller port on 127.0.0.1 (default 19093)
  KAFKA_HEAP_OPTS        broker JVM heap options (default "-Xms256m -Xmx768m")
  KAFKA_OPTS             extra broker JVM options (default none)
  KAFKA_START_TIMEOUT    seconds to wait for the broker to serve requests (default 60)
  KAFKA_STOP_TIMEOUT     seconds to wait for a clean exit before SIGKILL (default 30)
  KAFKA_CACHE_DIR        folder for the jars
                         (default \${XDG_CACHE_HOME:-\$HOME/.cache}/cio-pipeline/kafka-<version>/lib)
  KAFKA_STATE_DIR        folder for config, data, logs and pid file (default <repo>/tmp/kafka)
  JAVA_HOME              JDK or JRE to use (default: java on PATH); needs Java 17 or newer
EOF
}

log() {
  printf 'kafka.sh: %s\n' "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

require_integer() {
  local name="$1" value="$2"
  [[ "$value" =~ ^[0-9]+$ ]] || die "$name must be a whole number, got '$value'"
}

validate_settings() {
  require_commands
  require_integer KAFKA_PORT "$KAFKA_PORT"
  require_integer KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  require_integer KAFKA_START_TIMEOUT "$KAFKA_START_TIMEOUT"
  require_integer KAFKA_STOP_TIMEOUT "$KAFKA_STOP_TIMEOUT"
  [[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] ||
    die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ, both are $KAFKA_PORT"
  # Kafka 3.x logs through Log4j 1 (reload4j), which pom.xml and the logging
  # configuration written here do not cover.
  [[ "$KAFKA_VERSION" =~ ^4\.[0-9]+\.[0-9]+$ ]] ||
    die "KAFKA_VERSION must be a Kafka 4.x release such as 4.1.1, got '$KAFKA_VERSION'"
}

require_commands() {
  local command
  for command in flock perl ps sha256sum timeout; do
    command -v "$command" >/dev/null ||
      die "$command was not found on PATH. Install it (Debian/Ubuntu: apt-get install util-linux perl procps coreutils)."
  done
}

external_cluster() {
  [[ -n "${KAFKA_BROKERS:-}" ]]
}

# --- Java and jars -----------------------------------------------------------

find_java() {
  if [[ -n "$JAVA_BIN" ]]; then
    return
  fi

  local candidate
  if [[ -n "${JAVA_HOME:-}" ]]; then
    candidate="$JAVA_HOME/bin/java"
    [[ -x "$candidate" ]] ||
      die "JAVA_HOME is set to '$JAVA_HOME' but $candidate is missing or not executable. Point JAVA_HOME at a JDK 17+ or unset it."
  elif candidate="$(command -v java)"; then
    :
  else
    die "java was not found on PATH and JAVA_HOME is not set. Kafka $KAFKA_VERSION needs Java 17 or newer: install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless, macOS: brew install openjdk@17) or set JAVA_HOME."
  fi

  # `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15`, or "1.8.0_402" for Java 8.
  local version major
  version="$("$candidate" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')"
  if [[ "$version" == 1.* ]]; then
    major="$(cut -d. -f2 <<<"$version")"
  else
    major="${version%%[.+-]*}"
  fi
  [[ "$major" =~ ^[0-9]+$ ]] ||
    die "could not read the Java version from '$candidate -version'. Kafka $KAFKA_VERSION needs Java 17 or newer."
  ((major >= 17)) ||
    die "$candidate is Java $version, but Kafka $KAFKA_VERSION needs Java 17 or newer. Install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME to a JDK 17+."

  JAVA_BIN="$candidate"
}

# Identifies a complete copy: the Kafka version and the pom.xml it came from.
# The hash skips XML comments and whitespace, so editing a comment does not
# download the jars again.
lib_fingerprint() {
  local pom_hash
  pom_hash="$(perl -0777 -pe 's/<!--.*?-->//gs; s/\s+//g' "$POM_FILE" | sha256sum | cut -d' ' -f1)"
  printf 'kafka.version=%s pom.sha256=%s\n' "$KAFKA_VERSION" "$pom_hash"
}

# Prints the Kafka version that the jars in LIB_DIR were resolved for, if any.
lib_kafka_version() {
  [[ -f "$LIB_DIR/$LIB_MARKER" ]] || return 0
  sed -n 's/^kafka\.version=\([^ ]*\) .*/\1/p' "$LIB_DIR/$LIB_MARKER"
}

lib_is_complete() {
  [[ -f "$LIB_DIR/$LIB_MARKER" && "$(cat "$LIB_DIR/$LIB_MARKER")" == "$(lib_fingerprint)" ]]
}

# Prints the pids of Kafka brokers whose classpath is in LIB_DIR, on one line.
lib_users() {
  ps -eo pid=,args= | awk -v dir="$LIB_DIR/" 'index($0, dir) && /kafka\.Kafka / { printf "%s ", $1 }' | sed 's/ $//'
}

cmd_ensure() {
  validate_settings
  find_java
  if lib_is_complete; then
    return
  fi

  mkdir -p "$(dirname "$LIB_DIR")"
  # Parallel first runs (for example two test jobs) wait here for one download.
  exec 8>"$LIB_DIR.lock"
  flock -w 600 8 || die "timed out after 600 s waiting for the lock $LIB_DIR.lock held by another kafka.sh"
  if lib_is_complete; then
    exec 8>&-
    return
  fi

  # A running JVM opens classpath jars lazily, so replacing the folder under a
  # broker (from any state folder) can break it later with missing classes.
  # Jars of the same Kafka version that a broker runs from are kept for now.
  local users
  users="$(lib_users)"
  if [[ -n "$users" && "$(lib_kafka_version)" == "$KAFKA_VERSION" ]]; then
    log "warning: pom.xml changed since the jars in $LIB_DIR were resolved, but brokers with pid $users run from them, so the old jars are used until those brokers stop"
    exec 8>&-
    return
  fi
  [[ -z "$users" ]] ||
    die "the jars in $LIB_DIR must be resolved for Kafka $KAFKA_VERSION, but brokers with pid $users run from them. Stop them first ('tools/kafka/kafka.sh stop' with their KAFKA_STATE_DIR), or set KAFKA_CACHE_DIR to another folder."

  command -v mvn >/dev/null ||
    die "mvn was not found on PATH. It resolves the Kafka jars from Maven Central on the first run: install Apache Maven 3.6+ (Debian/Ubuntu: apt-get install maven, macOS: brew install maven)."

  log "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIB_DIR (once per Kafka version and pom.xml)"
  local staging="$LIB_DIR.partial"
  rm -rf "$staging"
  # Maven 3.8 prints ANSI reset codes even in quiet batch mode, so sed strips them.
  if ! mvn -q -B -f "$POM_FILE" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" \
    -DincludeScope=runtime \
    -DoutputDirectory="$staging" 2>&1 | sed -e $'s/\x1b\\[[0-9;]*m//g' >&2; then
    rm -rf "$staging"
    die "mvn failed to resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (output above). Check that Maven Central is reachable and that the version exists."
  fi
  [[ -f "$staging/kafka_2.13-$KAFKA_VERSION.jar" ]] ||
    die "mvn finished but $staging/kafka_2.13-$KAFKA_VERSION.jar is missing"

  # The marker is written last, so an interrupted copy is never taken as complete.
  rm -rf "$LIB_DIR"
  mv "$staging" "$LIB_DIR"
  lib_fingerprint >"$LIB_DIR/$LIB_MARKER"
  exec 8>&-
  log "resolved $(find "$LIB_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIB_DIR" | cut -f1))"
}

# --- Broker process ----------------------------------------------------------

# Prints the pid from the pid file when that process is a broker started from
# this state folder. A pid reused by an unrelated process does not count.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid command_line
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  command_line="$(ps -o args= -p "$pid" 2>/dev/null)" || return 1
  [[ "$command_line" == *kafka.Kafka* && "$command_line" == *"$SERVER_PROPERTIES"* ]] || return 1
  printf '%s\n' "$pid"
}

port_is_open() {
  local port="$1"
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

# Sends a Metadata request and then ApiVersions requests through Kafka's own
# BrokerApiVersionsCommand, so success means the broker serves client requests.
broker_serves_requests() {
  find_java
  local output
  output="$(timeout 30 "$JAVA_BIN" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$LIB_DIR/*" org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$BOOTSTRAP" 2>/dev/null)" || return 1
  [[ "$output" == *"$BOOTSTRAP (id: "* ]]
}

listeners_line() {
  printf 'listeners=PLAINTEXT://127.0.0.1:%s,CONTROLLER://127.0.0.1:%s\n' "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
}

write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"

  cat >"$SERVER_PROPERTIES" <<EOF
# Written by tools/kafka/kafka.sh on every start. Edit the script, not this file.
# A single node that is both broker and KRaft controller, reachable on 127.0.0.1 only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
$(listeners_line)
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR

# The services create their topics explicitly, so a typo in a topic name fails
# instead of creating a new topic. num.partitions is the default for auto-created
# topics and is unused while auto-creation is off.
auto.create.topics.enable=false
num.partitions=1

# One node, so every replication factor and ISR minimum is 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Consumers join a group at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0

# 2 MiB, up from about 1 MiB. The broker applies this limit to a whole record
# batch, and kafkajs puts all messages of one send() call for one partition into
# one batch. The batcher's messages carry up to 500 KB plus an envelope, so two
# or three of them sent together stay under the limit.
message.max.bytes=2097152
EOF

  cat >"$BROKER_LOG4J" <<EOF
# Written by tools/kafka/kafka.sh. The broker logs to $SERVER_LOG.
status = warn
# Keeps logging open until the JVM exits, so the last shutdown lines reach the
# file instead of a "JVM is shutting down. Using SimpleLogger" warning on stderr.
shutdownHook = disable
appender.server.type = RollingFile
appender.server.name = server
appender.server.fileName = \${sys:kafka.logs.dir}/server.log
appender.server.filePattern = \${sys:kafka.logs.dir}/server.log.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 10MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 5
rootLogger.level = info
rootLogger.appenderRef.server.ref = server
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF

  cat >"$TOOLS_LOG4J" <<EOF
# Written by tools/kafka/kafka.sh for Kafka's command-line tools: warnings to stderr.
status = warn
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
EOF
}

# Formats the KRaft metadata and log folder once, with a new cluster id.
format_storage_once() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    return
  fi

  local cluster_id
  cluster_id="$("$JAVA_BIN" -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$LIB_DIR/*" kafka.tools.StorageTool random-uuid)"
  log "formatting KRaft storage in $DATA_DIR (cluster id $cluster_id)"
  "$JAVA_BIN" -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$LIB_DIR/*" kafka.tools.StorageTool format \
    --cluster-id "$cluster_id" --config "$SERVER_PROPERTIES" >&2 ||
    die "kafka.tools.StorageTool format failed for $DATA_DIR (output above)"
  printf '%s\n' "$KAFKA_VERSION" >"$STATE_DIR/kafka.version"
}

warn_on_version_change() {
  local formatted_with
  [[ -f "$STATE_DIR/kafka.version" ]] || return 0
  formatted_with="$(cat "$STATE_DIR/kafka.version")"
  if [[ "$formatted_with" != "$KAFKA_VERSION" ]]; then
    log "warning: $STATE_DIR was formatted by Kafka $formatted_with and now runs $KAFKA_VERSION. If the broker fails to start, run 'tools/kafka/kafka.sh reset'."
  fi
}

print_log_tail() {
  local file
  for file in "$CONSOLE_LOG" "$SERVER_LOG"; do
    if [[ -s "$file" ]]; then
      log "last lines of $file:"
      tail -n 30 "$file" >&2
    fi
  done
}

check_port_free() {
  local name="$1" port="$2"
  if port_is_open "$port"; then
    die "127.0.0.1:$port is already in use by another process, so the broker cannot listen there. Stop that process, or set $name to a free port."
  fi
}

# Waits until the broker with the given pid serves requests. The log is read
# from byte offset $2 on, so a "started" line from an earlier run is ignored.
wait_until_serving() {
  local pid="$1" log_offset="$2"
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))

  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      print_log_tail
      die "the broker (pid $pid) exited during startup. See $SERVER_LOG and $CONSOLE_LOG."
    fi

    local size=0
    [[ -f "$SERVER_LOG" ]] && size="$(wc -c <"$SERVER_LOG")"
    # A log that shrank was rolled over, so read it from the start.
    ((size >= log_offset)) || log_offset=0

    # grep reads all input: with -q it could exit first, and the SIGPIPE that
    # tail then gets would fail the pipeline under pipefail.
    if tail -c "+$((log_offset + 1))" "$SERVER_LOG" 2>/dev/null | grep -F "$STARTED_LINE" >/dev/null &&
      port_is_open "$KAFKA_PORT" &&
      broker_serves_requests; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

launch_broker() {
  local jvm_options=()
  read -r -a jvm_options <<<"$KAFKA_HEAP_OPTS ${KAFKA_OPTS:-}"
  jvm_options+=(
    -XX:+UseG1GC
    -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent
    -Djava.awt.headless=true
    -Dkafka.logs.dir="$LOG_DIR"
    -Dlog4j2.configurationFile="$BROKER_LOG4J"
  )

  # setsid puts the broker in its own session, so neither Ctrl-C in the caller's
  # terminal nor a closing terminal reaches it, and only `stop` ends it. The lock
  # descriptor 9 is closed so the broker does not hold the state folder lock.
  local launcher=()
  if command -v setsid >/dev/null; then
    launcher=(setsid)
  else
    launcher=(nohup)
  fi
  "${launcher[@]}" "$JAVA_BIN" "${jvm_options[@]}" -cp "$LIB_DIR/*" kafka.Kafka "$SERVER_PROPERTIES" \
    </dev/null >"$CONSOLE_LOG" 2>&1 9>&- &
  printf '%s\n' "$!" >"$PID_FILE"
}

lock_state_dir() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w $((KAFKA_START_TIMEOUT + KAFKA_STOP_TIMEOUT + 60)) 9 ||
    die "timed out waiting for the lock $STATE_DIR/.lock held by another kafka.sh"
}

cmd_start() {
  if external_cluster; then
    log "KAFKA_BROKERS is set, so the external cluster at $KAFKA_BROKERS is used and no local broker is started"
    return
  fi
  validate_settings
  lock_state_dir

  local pid
  if pid="$(running_pid)"; then
    grep -qxF "$(listeners_line)" "$SERVER_PROPERTIES" ||
      die "the broker from $STATE_DIR (pid $pid) runs with other ports than KAFKA_PORT=$KAFKA_PORT and KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT. Run 'tools/kafka/kafka.sh restart' to apply them."
    # The wait covers a broker whose earlier start was interrupted before it was ready.
    if broker_serves_requests || wait_until_serving "$pid" 0; then
      log "reusing the broker that already runs from $STATE_DIR (pid $pid)"
      printf 'Kafka broker is ready at %s\n' "$BOOTSTRAP"
      return
    fi
    die "the broker from $STATE_DIR (pid $pid) runs but did not serve requests within $KAFKA_START_TIMEOUT s. See $SERVER_LOG, or run 'tools/kafka/kafka.sh restart'."
  fi
  if [[ -f "$PID_FILE" ]]; then
    log "removing the stale pid file $PID_FILE (pid $(cat "$PID_FILE") is not a running broker)"
    rm -f "$PID_FILE"
  fi

  cmd_ensure
  check_port_free KAFKA_PORT "$KAFKA_PORT"
  check_port_free KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  write_config
  warn_on_version_change
  format_storage_once

  local log_offset=0
  [[ -f "$SERVER_LOG" ]] && log_offset="$(wc -c <"$SERVER_LOG")"
  log "starting Apache Kafka $KAFKA_VERSION on $BOOTSTRAP (state in $STATE_DIR)"
  local launched_at="$SECONDS"
  launch_broker
  pid="$(cat "$PID_FILE")"

  if ! wait_until_serving "$pid" "$log_offset"; then
    print_log_tail
    stop_pid "$pid"
    die "the broker did not serve requests within $KAFKA_START_TIMEOUT s and was stopped. See $SERVER_LOG, or raise KAFKA_START_TIMEOUT."
  fi
  log "broker started (pid $pid), serving requests $((SECONDS - launched_at)) s after launch"
  printf 'Kafka broker is ready at %s\n' "$BOOTSTRAP"
}

# Sends SIGTERM, which makes the broker shut down cleanly, and sends SIGKILL
# only when it has not exited after KAFKA_STOP_TIMEOUT seconds.
stop_pid() {
  local pid="$1"
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))

  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "warning: the broker (pid $pid) did not exit within $KAFKA_STOP_TIMEOUT s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  # After SIGKILL the process disappears once the kernel has reaped it.
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
  done
  rm -f "$PID_FILE"
}

cmd_stop() {
  if external_cluster; then
    log "KAFKA_BROKERS is set, so there is no local broker to stop"
    return
  fi
  validate_settings
  lock_state_dir

  local pid
  if ! pid="$(running_pid)"; then
    if [[ -f "$PID_FILE" ]]; then
      log "removing the stale pid file $PID_FILE"
      rm -f "$PID_FILE"
    fi
    log "no broker runs from $STATE_DIR"
    return
  fi
  log "stopping the broker (pid $pid)"
  stop_pid "$pid"
  log "broker stopped"
}

cmd_status() {
  if external_cluster; then
    printf 'external cluster at %s (KAFKA_BROKERS is set)\n' "$KAFKA_BROKERS"
    return 0
  fi
  validate_settings

  local pid
  if ! pid="$(running_pid)"; then
    printf 'not running (state folder %s)\n' "$STATE_DIR"
    return 3
  fi
  if [[ -f "$LIB_DIR/$LIB_MARKER" ]] && broker_serves_requests; then
    printf 'running (pid %s) and serving requests at %s\n' "$pid" "$BOOTSTRAP"
    return 0
  fi
  printf 'running (pid %s) but not serving requests at %s; see %s\n' "$pid" "$BOOTSTRAP" "$SERVER_LOG"
  return 1
}

cmd_reset() {
  if external_cluster; then
    log "KAFKA_BROKERS is set, so nothing is reset; the external cluster at $KAFKA_BROKERS is left as it is"
    return
  fi
  cmd_stop
  # The lock from cmd_stop is held until the folder, lock file included, is gone.
  rm -rf "$STATE_DIR"
  exec 9>&-
  log "deleted $STATE_DIR"
}

cmd_env() {
  local brokers="${KAFKA_BROKERS:-$BOOTSTRAP}"
  # Plain host:port lists stay unquoted so the line also works as a dotenv entry.
  if [[ "$brokers" =~ ^[A-Za-z0-9._:,-]+$ ]]; then
    printf 'KAFKA_BROKERS=%s\n' "$brokers"
  else
    printf 'KAFKA_BROKERS=%q\n' "$brokers"
  fi
}

cmd_pid() {
  if external_cluster; then
    return 3
  fi
  running_pid || return 3
}

main() {
  local command="${1:-help}"
  case "$command" in
  ensure) cmd_ensure ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart)
    cmd_stop
    exec 9>&-
    cmd_start
    ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  env) cmd_env ;;
  pid) cmd_pid ;;
  help | -h | --help) usage ;;
  *)
    usage >&2
    die "unknown command '$command'"
    ;;
  esac
}

main "$@"
