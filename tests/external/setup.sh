#!/usr/bin/env bash
# Install the independent FHIR STU3 checkers into target/external/ (idempotent, quiet).
#   - Python venv with fhir.resources==8.3.0 (uses fhir.resources.STU3)
#   - npm: fhir@4.12.0 (engine, alias fhir4) + fhir@3.3.1 (STU3 definition bundles, alias fhir3)
# Only PyPI and the npm registry are used.  Re-running is a no-op once the stamp files exist.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${ITKBRIDGE_EXTERNAL_CACHE:-$ROOT/target/external}"
PY_VERSION_PIN="fhir.resources==8.3.0"
NPM_PINS="fhir4@npm:fhir@4.12.0 fhir3@npm:fhir@3.3.1"

mkdir -p "$CACHE"

# ---- Python -----------------------------------------------------------------
VENV="$CACHE/venv"
PY_STAMP="$VENV/.itkbridge-installed"
if [[ ! -f "$PY_STAMP" ]] || [[ "$(cat "$PY_STAMP")" != "$PY_VERSION_PIN" ]]; then
    echo "setup: creating Python venv in $VENV ($PY_VERSION_PIN)" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$PY_VERSION_PIN"
    "$VENV/bin/python" -c 'import fhir.resources.STU3.bundle' 
    echo "$PY_VERSION_PIN" > "$PY_STAMP"
fi

# ---- Node -------------------------------------------------------------------
NODE_DIR="$CACHE/node"
NODE_STAMP="$NODE_DIR/.itkbridge-installed"
if [[ ! -f "$NODE_STAMP" ]] || [[ "$(cat "$NODE_STAMP")" != "$NPM_PINS" ]]; then
    echo "setup: installing npm packages in $NODE_DIR ($NPM_PINS)" >&2
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    printf '{ "name": "itkbridge-external-checkers", "private": true }\n' > "$NODE_DIR/package.json"
    # shellcheck disable=SC2086
    (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --no-save --no-package-lock $NPM_PINS >/dev/null)
    for f in profiles-types.json profiles-resources.json valuesets.json; do
        if [[ -z "$(find "$NODE_DIR/node_modules/fhir3" -name "$f" -path '*stu3*' -print -quit)" ]]; then
            echo "setup: STU3 definition $f not found inside fhir@3.3.1" >&2
            exit 1
        fi
    done
    echo "$NPM_PINS" > "$NODE_STAMP"
fi
