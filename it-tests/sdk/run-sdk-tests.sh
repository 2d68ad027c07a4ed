#!/usr/bin/env bash
# Runs the official-SDK tests of one language against a running gateway.
#
#   bash it-tests/sdk/run-sdk-tests.sh http://127.0.0.1:10000 python   # pytest, openai + anthropic
#   bash it-tests/sdk/run-sdk-tests.sh http://127.0.0.1:10000 node     # node --test, openai
#
# The SDKs are installed into project-local places on the first run and reused afterwards:
# .llmgw/sdk-python-venv/ (python3 -m venv, pip install -r python/requirements.txt) and
# it-tests/sdk/node/node_modules/ (npm ci from the committed package-lock.json). Both are redone
# when requirements.txt or package-lock.json change. The tests read the gateway's address from
# LLMGW_BASE_URL.
#
# Exits 3, with the reason on stderr, when the language's toolchain is missing or its package
# registry cannot be reached, so a caller can skip visibly; 2 on wrong arguments; otherwise the
# test runner's own exit code.
set -euo pipefail

SDK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SDK_DIR/../.." && pwd)"

usage() { echo "usage: $0 <base-url> <python|node>" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
BASE_URL="${1%/}"
LANGUAGE="$2"
[[ "$BASE_URL" =~ ^https?:// ]] || { echo "run-sdk-tests: base URL: $1 (expected: http://host:port)" >&2; exit 2; }

unavailable() { echo "run-sdk-tests: $*" >&2; exit 3; }

# True when an installer's log says the registry could not be reached (as opposed to, say, a pinned
# version that does not exist, which is a real failure).
network_failure() {
  grep -qiE 'NewConnectionError|ConnectTimeout|ConnectionError|Max retries exceeded|Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection refused|timed out|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network request to .* failed' "$1"
}

fingerprint() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

run_python() {
  local python venv stamp want log
  python="$(command -v python3 || true)"
  [[ -n "$python" ]] || unavailable "no python3 on PATH for the Python SDK tests"
  venv="$ROOT/.llmgw/sdk-python-venv"
  stamp="$venv/.llmgw-installed"
  want="$(fingerprint "$SDK_DIR/python/requirements.txt") $("$python" -c 'import sys; print(sys.version)' | head -1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "run-sdk-tests: installing the Python SDKs into $venv (first run: this takes a while)" >&2
    rm -rf "$venv"
    mkdir -p "$ROOT/.llmgw"
    "$python" -m venv "$venv" >&2 \
      || { rm -rf "$venv"; unavailable "'$python -m venv' failed (Debian: apt-get install python3-venv)"; }
    log="$(mktemp)"
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
        -r "$SDK_DIR/python/requirements.txt" >"$log" 2>&1; then
      cat "$log" >&2
      rm -rf "$venv"
      if network_failure "$log"; then
        rm -f "$log"
        unavailable "pip could not reach the package registry to install python/requirements.txt"
      fi
      rm -f "$log"
      echo "run-sdk-tests: pip install -r python/requirements.txt failed" >&2
      exit 1
    fi
    rm -f "$log"
    # Written last: an interrupted install is redone on the next run.
    echo "$want" >"$stamp"
  fi
  cd "$SDK_DIR/python"
  # -p no:cacheprovider: no .pytest_cache/ in the source tree.
  LLMGW_BASE_URL="$BASE_URL" exec "$venv/bin/python" -m pytest -p no:cacheprovider -v -rA "$SDK_DIR/python"
}

run_node() {
  local node_dir stamp want log
  command -v node >/dev/null || unavailable "no node on PATH for the Node SDK tests"
  command -v npm >/dev/null || unavailable "no npm on PATH for the Node SDK tests"
  node_dir="$SDK_DIR/node"
  stamp="$node_dir/node_modules/.llmgw-installed"
  want="$(fingerprint "$node_dir/package.json" "$node_dir/package-lock.json") $(node --version)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "run-sdk-tests: npm ci in $node_dir (first run: this takes a while)" >&2
    log="$(mktemp)"
    if ! (cd "$node_dir" && npm ci --no-audit --no-fund) >"$log" 2>&1; then
      cat "$log" >&2
      if network_failure "$log"; then
        rm -f "$log"
        unavailable "npm could not reach the package registry to install the Node SDK"
      fi
      rm -f "$log"
      echo "run-sdk-tests: npm ci failed" >&2
      exit 1
    fi
    rm -f "$log"
    echo "$want" >"$stamp"
  fi
  cd "$node_dir"
  # TAP, whatever Node's default reporter: its closing '# pass N' is what callers count.
  LLMGW_BASE_URL="$BASE_URL" exec node --test --test-reporter=tap test/*.test.js
}

case "$LANGUAGE" in
  python) run_python ;;
  node) run_node ;;
  *) usage ;;
esac
