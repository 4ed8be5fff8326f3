#!/usr/bin/env python3
"""Independent FHIR STU3 check with fhir.resources 8.3.0 (``fhir.resources.STU3``).

Usage: check_fhir_resources.py [--ndjson] FILE...

Each file must hold a Bundle.  The Bundle model is recursive: entry.resource is parsed with the
model named by its resourceType, so the document Bundle inside an ITK3 message Bundle is checked
too.  Both pydantic ValidationErrors and lookup errors (unknown resourceType) are reported.
Exit status 1 if any file fails, 2 on usage error.

With ``--ndjson`` (used by agree.sh) the output is machine-readable instead: one JSON line per file,
``{"file": PATH, "valid": BOOL, "problems": [STRING...]}``, and no summary line; the exit status is
the same.
"""
import json
import os
import sys

from pydantic import ValidationError

from fhir.resources.STU3.bundle import Bundle


def check(path):
    """Return a list of problem strings for one file (empty if valid)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        return [f"cannot read JSON: {exc}"]
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        rt = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        return [f"top-level resourceType is {rt!r}, expected 'Bundle'"]
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in err.get('loc', ())) or '-'}: {err.get('msg')}"
            for err in exc.errors()
        ]
    except (LookupError, ValueError, TypeError, AttributeError) as exc:
        # unknown resourceType surfaces as a lookup error, not a ValidationError
        return [f"{type(exc).__name__}: {exc}"]
    return []


def main(argv):
    files = argv[1:]
    ndjson = bool(files) and files[0] == "--ndjson"
    if ndjson:
        files = files[1:]
    if not files:
        print("usage: check_fhir_resources.py [--ndjson] FILE...", file=sys.stderr)
        return 2
    failed = 0
    for path in files:
        problems = check(path)
        if ndjson:
            failed += bool(problems)
            line = {"file": path, "valid": not problems, "problems": problems}
            print(json.dumps(line, ensure_ascii=False))
            continue
        if problems:
            failed += 1
            for p in problems:
                print(f"FAIL {path}: {p}")
        elif os.environ.get("VERBOSE"):
            print(f"ok   {path}")
    if not ndjson:
        print(f"fhir.resources: {len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
