#!/usr/bin/env bash
# Runs the gateway on this machine: ext-proc and the control plane as executable jars, plus Envoy
# when one is available (ENVOY_BIN, `envoy` on PATH, or a Docker engine for the pinned image). Builds the jars first if they are missing
# or older than the sources. Ctrl-C (or SIGTERM) stops everything gracefully.
#
#   bash deploy/run-local.sh            # build if needed, start, wait for health, run until stopped
#   bash deploy/run-local.sh --check    # start, verify health of both services, stop (used by CI)
#
# Ports (override with the same environment variables the services read):
#   ext-proc gRPC (ext_proc + grpc.health.v1)   EXT_PROC_GRPC_PORT   9002
#   ext-proc Prometheus metrics (/metrics)       EXT_PROC_METRICS_PORT 9003
#   ext-proc policy file                         EXT_PROC_POLICY_FILE deploy/ext-proc/policy.yaml
#   control plane xDS (ADS)                      LLMGW_CP_XDS_PORT    18000
#   control plane REST (GET /healthz, /v1/...)   LLMGW_CP_ADMIN_PORT  18080
#   control plane store and admin token          LLMGW_CP_DATA_DIR    target/run-local/control-plane
#   xDS port bearer token (generated if missing) LLMGW_CP_XDS_TOKEN_FILE target/run-local/xds-token
#   Envoy listener / admin / Prometheus          10000 / 9901 / 9902 (see envoy/envoy.yaml)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="${1:-run}"
RUN_DIR="${LLMGW_RUN_DIR:-$ROOT/target/run-local}"
mkdir -p "$RUN_DIR"

export EXT_PROC_GRPC_PORT="${EXT_PROC_GRPC_PORT:-9002}"
export LLMGW_CP_XDS_PORT="${LLMGW_CP_XDS_PORT:-18000}"
export LLMGW_CP_ADMIN_PORT="${LLMGW_CP_ADMIN_PORT:-18080}"
export LLMGW_CP_EXT_PROC="${LLMGW_CP_EXT_PROC:-127.0.0.1:$EXT_PROC_GRPC_PORT}"
export LLMGW_CP_DATA_DIR="${LLMGW_CP_DATA_DIR:-$RUN_DIR/control-plane}"
export EXT_PROC_METRICS_PORT="${EXT_PROC_METRICS_PORT:-9003}"
export EXT_PROC_POLICY_FILE="${EXT_PROC_POLICY_FILE:-$ROOT/deploy/ext-proc/policy.yaml}"
# The xDS port needs a bearer token; one is generated on the first run (hex, so it is safe in sed and YAML).
export LLMGW_CP_XDS_TOKEN_FILE="${LLMGW_CP_XDS_TOKEN_FILE:-$RUN_DIR/xds-token}"
if [[ ! -s "$LLMGW_CP_XDS_TOKEN_FILE" ]]; then
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$LLMGW_CP_XDS_TOKEN_FILE")
fi

jar_of() { ls "$ROOT/$1"/target/llmgw-"$1"-*-all.jar 2>/dev/null | head -n 1; }

needs_build() {
  local jar
  for module in ext-proc control-plane; do
    jar="$(jar_of "$module")"
    [[ -z "$jar" ]] && return 0
    [[ -n "$(find "$ROOT/$module/src" "$ROOT/proto/src" "$ROOT/pom.xml" "$ROOT/$module/pom.xml" -newer "$jar" -type f -print -quit)" ]] && return 0
  done
  return 1
}

if needs_build; then
  echo "run-local: building executable jars (mvn -B -q -Dmaven.test.skip=true package)"
  mvn -B -q -Dmaven.test.skip=true -pl proto,ext-proc,control-plane -am package
fi
EXT_PROC_JAR="$(jar_of ext-proc)"
CP_JAR="$(jar_of control-plane)"

PIDS=()
stop_all() {
  trap - INT TERM EXIT
  echo "run-local: stopping"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all INT TERM EXIT

java -jar "$EXT_PROC_JAR" > >(sed -u "s/^/[ext-proc] /") 2>&1 &
PIDS+=($!)
java -jar "$CP_JAR" > >(sed -u "s/^/[control-plane] /") 2>&1 &
PIDS+=($!)

wait_for() {
  local what="$1"; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "run-local: $what is healthy"; return 0; fi
    sleep 0.5
  done
  echo "run-local: $what did not become healthy within 30 s" >&2
  return 1
}
wait_for "ext-proc (gRPC health on :$EXT_PROC_GRPC_PORT)" java -jar "$EXT_PROC_JAR" health "127.0.0.1:$EXT_PROC_GRPC_PORT"
wait_for "control plane (GET :$LLMGW_CP_ADMIN_PORT/healthz)" curl -fsS "http://127.0.0.1:$LLMGW_CP_ADMIN_PORT/healthz"

ENVOY="${ENVOY_BIN:-$(command -v envoy || true)}"
ENVOY_IMAGE="${ENVOY_IMAGE:-envoyproxy/envoy:v1.34.1}"   # pinned to the API the control plane is built against
# The bootstrap Envoy runs: the xDS port as configured, and the xDS token as ADS initial metadata.
XDS_TOKEN="$(tr -d '[:space:]' < "$LLMGW_CP_XDS_TOKEN_FILE")"
sed -e "s/port_value: 18000/port_value: $LLMGW_CP_XDS_PORT/" \
    -e "s|^      # initial_metadata: .*|      initial_metadata: [{ key: authorization, value: \"Bearer $XDS_TOKEN\" }]|" \
    envoy/envoy.yaml > "$RUN_DIR/envoy.yaml"
chmod 600 "$RUN_DIR/envoy.yaml"
if [[ -n "$ENVOY" ]]; then
  "$ENVOY" -c "$RUN_DIR/envoy.yaml" --disable-hot-restart > >(sed -u "s/^/[envoy] /") 2>&1 &
  PIDS+=($!)
  echo "run-local: Envoy ($ENVOY) started; send LLM requests to http://127.0.0.1:10000"
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  # Host networking so Envoy reaches the control plane and ext-proc on loopback (Linux Docker).
  docker run --rm --name llmgw-envoy --network host -v "$RUN_DIR/envoy.yaml:/etc/envoy/envoy.yaml:ro" \
    "$ENVOY_IMAGE" envoy -c /etc/envoy/envoy.yaml --disable-hot-restart > >(sed -u "s/^/[envoy] /") 2>&1 &
  PIDS+=($!)
  echo "run-local: Envoy ($ENVOY_IMAGE in Docker) started; send LLM requests to http://127.0.0.1:10000"
else
  echo "run-local: NO ENVOY: ENVOY_BIN is not set, there is no 'envoy' on PATH and no Docker engine."
  echo "run-local: running the control plane and ext-proc only; an Envoy elsewhere can use envoy/envoy.yaml"
  echo "run-local: pointed at this machine's port $LLMGW_CP_XDS_PORT, with the token in $LLMGW_CP_XDS_TOKEN_FILE"
  echo "run-local: as its initial_metadata (or use $RUN_DIR/envoy.yaml, which has both)."
fi

if [[ "$MODE" == "--check" ]]; then
  curl -fsS "http://127.0.0.1:$LLMGW_CP_ADMIN_PORT/healthz"; echo
  curl -fsS "http://127.0.0.1:$EXT_PROC_METRICS_PORT/metrics" | grep -q '^llmgw_extproc_policy_loads_total{result="applied"} 1' \
    || { echo "run-local: ext-proc did not report the policy as loaded" >&2; exit 1; }
  echo "run-local: check passed"
  exit 0
fi
echo "run-local: REST writes need: Authorization: Bearer \$(cat $LLMGW_CP_DATA_DIR/admin-token) (unless LLMGW_CP_ADMIN_TOKEN is set)"
echo "run-local: running; Ctrl-C to stop"
wait
