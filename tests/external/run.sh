#!/usr/bin/env bash
# Run both independent FHIR STU3 checkers over every *.json below the given directories
# (default: testdata/golden).  Prints one summary line per checker and exits non-zero if
# any file failed either checker (or if no JSON file was found).
#   usage: tests/external/run.sh [DIR...]
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${ITKBRIDGE_EXTERNAL_CACHE:-$ROOT/target/external}"
export ITKBRIDGE_EXTERNAL_CACHE="$CACHE"

"$HERE/setup.sh" || { echo "run.sh: setup failed" >&2; exit 2; }

if [[ $# -eq 0 ]]; then
    set -- "$ROOT/testdata/golden"
fi

files=()
for dir in "$@"; do
    if [[ ! -e "$dir" ]]; then
        echo "run.sh: no such file or directory: $dir" >&2
        exit 2
    fi
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$dir" -type f -name '*.json' -print0 | sort -z)
done

if [[ ${#files[@]} -eq 0 ]]; then
    echo "run.sh: no *.json files found under: $*" >&2
    exit 2
fi

status=0
py_out="$("$CACHE/venv/bin/python" "$HERE/check_fhir_resources.py" "${files[@]}")" || status=1
js_out="$(node "$HERE/check_fhirjs.js" "${files[@]}")" || status=1

# details first (FAIL lines), then the one-line summaries
printf '%s\n' "$py_out" | grep -v '^fhir.resources: ' || true
printf '%s\n' "$js_out" | grep -v '^fhir.js: ' || true
printf '%s\n' "$py_out" | grep '^fhir.resources: '
printf '%s\n' "$js_out" | grep '^fhir.js: '
exit $status
