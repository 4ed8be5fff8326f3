#!/usr/bin/env bash
# Issue 3 acceptance: `itkbridge validate` agrees with both independent STU3 checkers on
# everything they can judge.
#
#   usage: tests/external/agree.sh
#
# Inputs (written to a temp folder by agree.py): the four clean bases testdata/validate/clean/*.json,
# every mutant of testdata/validate/mutants/mutants.json applied to its base (as
# tests/validate_mutants.rs applies it) and every converter output testdata/golden/*.json.
# Both checkers run once over all files (--ndjson: one verdict per file), side by side with
# `itkbridge validate <all files> --report report.ndjson`.
#
# Rule: a file that fhir.resources or FHIR.js rejects must be `valid: false` for itkbridge; the
# clean bases and golden outputs must be valid for all three.  Files both checkers accept may go
# either way for itkbridge (profiles, invariants, ITK rules are beyond the checkers).
# Exit 0 with a one-line summary, 1 with a table of disagreements, 2 on setup/usage errors.
#
# Binary: $ITKBRIDGE if set, else `cargo build` (debug; a no-op after `cargo test`) and
# ${CARGO_TARGET_DIR:-target}/debug/itkbridge.  The temp folder is removed on success and kept
# (path printed) otherwise; AGREE_KEEP=1 always keeps it.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${ITKBRIDGE_EXTERNAL_CACHE:-$ROOT/target/external}"
export ITKBRIDGE_EXTERNAL_CACHE="$CACHE"
started=$SECONDS

if [[ $# -ne 0 ]]; then
    echo "usage: tests/external/agree.sh   (no arguments; binary from \$ITKBRIDGE)" >&2
    exit 2
fi

"$HERE/setup.sh" || { echo "agree.sh: setup failed" >&2; exit 2; }

if [[ -n "${ITKBRIDGE:-}" ]]; then
    BIN="$ITKBRIDGE"
else
    target="${CARGO_TARGET_DIR:-$ROOT/target}"
    [[ "$target" = /* ]] || target="$ROOT/$target"
    (cd "$ROOT" && cargo build --quiet --bin itkbridge) || { echo "agree.sh: cargo build failed" >&2; exit 2; }
    BIN="$target/debug/itkbridge"
fi
if [[ ! -x "$BIN" ]]; then
    echo "agree.sh: itkbridge binary not found or not executable: $BIN" >&2
    exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/itkbridge-agree.XXXXXX")"
status=2
finish() {
    if [[ $status -eq 0 && "${AGREE_KEEP:-0}" != "1" ]]; then
        rm -rf "$WORK"
    else
        echo "agree.sh: inputs and verdicts kept in $WORK" >&2
    fi
}
trap finish EXIT

python3 "$HERE/agree.py" build "$ROOT" "$WORK" || exit 2
mapfile -t files < "$WORK/files.lst"

# The three validators run side by side (2 cores).  Exit status 1 just means "some file
# failed"; only 2+ (usage/setup/crash) is an error here.
"$CACHE/venv/bin/python" "$HERE/check_fhir_resources.py" --ndjson "${files[@]}" > "$WORK/fhir_resources.ndjson" &
py_pid=$!
node "$HERE/check_fhirjs.js" --ndjson "${files[@]}" > "$WORK/fhirjs.ndjson" &
js_pid=$!
"$BIN" validate "${files[@]}" --report "$WORK/report.ndjson" > "$WORK/itkbridge.out" 2>&1
itk_rc=$?
wait "$py_pid"; py_rc=$?
wait "$js_pid"; js_rc=$?
failed=0
if [[ $py_rc -gt 1 ]]; then echo "agree.sh: check_fhir_resources.py failed (exit $py_rc)" >&2; failed=1; fi
if [[ $js_rc -gt 1 ]]; then echo "agree.sh: check_fhirjs.js failed (exit $js_rc)" >&2; failed=1; fi
if [[ $itk_rc -gt 1 ]]; then echo "agree.sh: itkbridge validate failed (exit $itk_rc); see $WORK/itkbridge.out" >&2; failed=1; fi
[[ $failed -eq 0 ]] || exit 2

python3 "$HERE/agree.py" judge "$WORK"
status=$?
echo "agree.sh: $((SECONDS - started)) s"
exit $status
