#!/usr/bin/env python3
"""Helper of agree.sh (standard library only; any python3 >= 3.8).

  agree.py build ROOT OUTDIR
      Write the inputs into OUTDIR/files/ and the list of them to OUTDIR/manifest.json:
        clean__<base>.json    testdata/validate/clean/<base>.json, re-serialised
        mutant__<id>.json     every mutant of testdata/validate/mutants/mutants.json applied to a
                              copy of its base, exactly as tests/validate_mutants.rs applies it
        golden__<name>.json   testdata/golden/<name>.json, copied byte for byte
      Exit 2 if a mutant does not apply (tests/validate_mutants.rs reports the same mutant).

  agree.py judge OUTDIR
      Read OUTDIR/{manifest.json, fhir_resources.ndjson, fhirjs.ndjson, report.ndjson} and apply
      the agreement rule:
        * a file either external checker rejects must be `valid: false` in the itkbridge report;
        * clean bases and golden outputs must be accepted by all three.
      Files both checkers accept may be valid or invalid for itkbridge (profiles, invariants and
      ITK rules are beyond the checkers).  Prints a table of disagreements and exits 1 if there
      is any, else prints a one-line summary and exits 0.  Exit 2 if a verdict is missing.

Numbers keep their source text (``4E1`` stays ``4E1``): the Rust test parses with serde_json's
``arbitrary_precision``, so a mutant value such as ``4E1`` reaches the validator as written, and a
float round trip (``40.0``) would silently remove the defect.  Member order is kept as well
(serde_json ``preserve_order``: ``set`` on an existing member keeps its place, a new member goes
last, ``remove`` shifts, ``rename`` renames in place).
"""
import json
import os
import shutil
import sys

BASES = ["edis", "mh", "ecd", "opl"]  # the order of tests/validate_mutants.rs


# ----------------------------------------------------------------- JSON with number text kept


class RawNumber:
    """A JSON number kept as its source text (serde_json arbitrary_precision)."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return self.text


def loads(text):
    return json.loads(text, parse_int=RawNumber, parse_float=RawNumber)


def load(path):
    with open(path, encoding="utf-8") as fh:
        return loads(fh.read())


def dumps(v, indent=0):
    """Pretty JSON like serde_json::to_string_pretty (two-space indent, no ASCII escaping)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(v, RawNumber):
        return v.text
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(inner + dumps(x, indent + 1) for x in v) + "\n" + pad + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = (inner + json.dumps(k, ensure_ascii=False) + ": " + dumps(x, indent + 1) for k, x in v.items())
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    raise TypeError(f"unexpected {type(v).__name__} in JSON value")


def deep_copy(v):
    if isinstance(v, dict):
        return {k: deep_copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [deep_copy(x) for x in v]
    return v  # str / RawNumber / bool / None are never mutated in place


# ----------------------------------------------------------------- mutant ops (validate_mutants.rs)


class OpError(Exception):
    pass


def token(t):
    return t.replace("~1", "/").replace("~0", "~")


def split(path):
    if not path.startswith("/"):
        raise OpError(f"'{path}' is not a JSON Pointer (must start with '/')")
    toks = [token(t) for t in path[1:].split("/")]
    last = toks.pop()
    return toks, last


def parse_index(t, path):
    # Rust `usize::from_str`: ASCII digits with an optional leading '+'
    s = t[1:] if t.startswith("+") else t
    if not s or not all("0" <= c <= "9" for c in s):
        raise OpError(f"{path}: '{t}' is not an array index")
    return int(s)


def parent_of(doc, toks, path):
    cur = doc
    for t in toks:
        if isinstance(cur, dict):
            if t not in cur:
                raise OpError(f"{path}: no member '{t}'")
            cur = cur[t]
        elif isinstance(cur, list):
            i = parse_index(t, path)
            if i >= len(cur):
                raise OpError(f"{path}: index {i} out of range (length {len(cur)})")
            cur = cur[i]
        else:
            raise OpError(f"{path}: '{t}' goes into a primitive")
    return cur


def index(t, n, path, allow_end):
    if allow_end and t == "-":
        return n
    i = parse_index(t, path)
    top = n if allow_end else max(n - 1, 0)
    if i > top or (not allow_end and n == 0):
        raise OpError(f"{path}: index {i} out of range (length {n})")
    return i


def apply(doc, op):
    path = op["path"]
    toks, last = split(path)
    parent = parent_of(doc, toks, path)
    kind = op["op"]

    def value():
        if "value" not in op:  # present-but-null is a value
            raise OpError(f"{path}: '{kind}' needs a value")
        return deep_copy(op["value"])

    if kind == "set" and isinstance(parent, dict):
        parent[last] = value()  # an existing member keeps its place
    elif kind == "set" and isinstance(parent, list):
        parent[index(last, len(parent), path, False)] = value()
    elif kind == "insert" and isinstance(parent, dict):
        if last in parent:
            raise OpError(f"{path}: member '{last}' exists (use set)")
        parent[last] = value()
    elif kind == "insert" and isinstance(parent, list):
        parent.insert(index(last, len(parent), path, True), value())
    elif kind == "remove" and isinstance(parent, dict):
        if last not in parent:
            raise OpError(f"{path}: no member '{last}' to remove")
        del parent[last]
    elif kind == "remove" and isinstance(parent, list):
        del parent[index(last, len(parent), path, False)]
    elif kind == "rename" and isinstance(parent, dict):
        to = op.get("to")
        if to is None:
            raise OpError(f"{path}: 'rename' needs 'to'")
        if last not in parent:
            raise OpError(f"{path}: no member '{last}' to rename")
        if to in parent:
            raise OpError(f"{path}: member '{to}' exists already")
        items = [((to if k == last else k), v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
    else:
        what = "object" if isinstance(parent, dict) else "array" if isinstance(parent, list) else "primitive"
        raise OpError(f"{path}: op '{kind}' cannot apply to a {what} parent")


def mutate(base, mutant):
    doc = deep_copy(base)
    for op in mutant["ops"]:
        apply(doc, op)
    if doc == base:
        raise OpError("the ops leave the base unchanged")
    return doc


# ----------------------------------------------------------------- build


def build(root, out):
    files_dir = os.path.join(out, "files")
    os.makedirs(files_dir, exist_ok=True)
    manifest = []

    def write(name, text, **entry):
        path = os.path.join(files_dir, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        manifest.append(dict(entry, path=path))

    bases = {b: load(os.path.join(root, "testdata/validate/clean", f"{b}.json")) for b in BASES}
    for b in BASES:
        write(f"clean__{b}.json", dumps(bases[b]) + "\n", id=f"clean/{b}", kind="clean")

    problems = []
    for m in load(os.path.join(root, "testdata/validate/mutants/mutants.json")):
        if m["base"] not in bases:
            problems.append(f"{m['id']}: unknown base '{m['base']}'")
            continue
        try:
            doc = mutate(bases[m["base"]], m)
        except OpError as exc:
            problems.append(f"{m['id']}: ops do not apply: {exc}")
            continue
        exp = m["expect"]
        write(f"mutant__{m['id']}.json", dumps(doc) + "\n", id=m["id"], kind="mutant",
              expect=f"{exp['severity']} [{exp.get('rule') or 'any rule'}] {exp['location']}",
              why=m["why"])

    golden = os.path.join(root, "testdata/golden")
    for name in sorted(os.listdir(golden)):
        if name.endswith(".json"):
            dst = os.path.join(files_dir, f"golden__{name}")
            shutil.copyfile(os.path.join(golden, name), dst)
            manifest.append({"id": f"golden/{name[:-5]}", "kind": "golden", "path": dst})

    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1)
    with open(os.path.join(out, "files.lst"), "w", encoding="utf-8") as fh:
        fh.write("".join(e["path"] + "\n" for e in manifest))
    if problems:
        for p in problems:
            print(f"agree: {p}", file=sys.stderr)
        return 2
    return 0


# ----------------------------------------------------------------- judge


def read_ndjson(path, what):
    out = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    raise SystemExit(f"agree: {what}: line {n} is not JSON ({exc}): {line[:200]!r}")
                out[rec["file"]] = rec
    return out


def clip(s, n=160):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def itk_issues(rec, limit=4):
    """The itkbridge issues worth showing: fatal/error first, then warnings."""
    order = {"fatal": 0, "error": 1, "warning": 2}
    shown = sorted((i for i in rec.get("issues", []) if i.get("severity") in order),
                   key=lambda i: order[i["severity"]])
    lines = [f"{i['severity']} [{i.get('rule', '?')}] {i.get('location', '-')}: {i.get('message', '')}"
             for i in shown[:limit]]
    if len(shown) > limit:
        lines.append(f"… {len(shown) - limit} more")
    return lines or ["(no fatal, error or warning issue)"]


def judge(out):
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    py = read_ndjson(os.path.join(out, "fhir_resources.ndjson"), "fhir.resources")
    js = read_ndjson(os.path.join(out, "fhirjs.ndjson"), "fhir.js")
    itk = read_ndjson(os.path.join(out, "report.ndjson"), "itkbridge report")

    missing = [f"{e['id']}: no {what} verdict" for e in manifest
               for what, got in (("fhir.resources", py), ("fhir.js", js), ("itkbridge", itk))
               if e["path"] not in got]
    if missing:
        for m in missing:
            print(f"agree: {m}", file=sys.stderr)
        return 2

    kinds = {"clean": 0, "mutant": 0, "golden": 0}
    n_py = n_js = n_either = n_both = n_itk = n_beyond = 0
    rows = []
    for e in manifest:
        p, j, i = py[e["path"]], js[e["path"]], itk[e["path"]]
        kinds[e["kind"]] += 1
        n_py += not p["valid"]
        n_js += not j["valid"]
        n_either += not (p["valid"] and j["valid"])
        n_both += not (p["valid"] or j["valid"])
        n_itk += not i["valid"]
        n_beyond += (not i["valid"]) and p["valid"] and j["valid"]
        why = []
        if not (p["valid"] and j["valid"]) and i["valid"]:
            why.append("checker rejects, itkbridge accepts")
        if e["kind"] != "mutant" and not (p["valid"] and j["valid"] and i["valid"]):
            why.append(f"{e['kind']} file must be valid for all three")
        if why:
            rows.append((e, p, j, i, "; ".join(why)))

    summary = (f"{len(manifest)} files ({kinds['clean']} clean, {kinds['mutant']} mutants, "
               f"{kinds['golden']} golden); rejected by fhir.resources {n_py}, fhir.js {n_js}, "
               f"either {n_either}, both {n_both}; itkbridge rejects {n_itk} "
               f"({n_itk - n_beyond} of them also rejected by a checker, {n_beyond} beyond the checkers)")
    if not rows:
        print(f"agree: ok: {summary}; 0 disagreements")
        return 0

    verdict = lambda r: "valid" if r["valid"] else "INVALID"  # noqa: E731
    head = ("file", "kind", "fhir.resources", "fhir.js", "itkbridge", "rule broken")
    table = [head] + [(e["id"], e["kind"], verdict(p), verdict(j), verdict(i), why)
                      for e, p, j, i, why in rows]
    widths = [max(len(r[c]) for r in table) for c in range(len(head) - 1)]
    print(f"agree: {len(rows)} disagreement(s)\n")
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    print("\ndetails:")
    for e, p, j, i, _ in rows:
        print(f"\n{e['id']}  ({os.path.basename(e['path'])})")
        if e.get("why"):
            print(f"  mutant:         {e['why']}")
            print(f"  expected issue: {e['expect']}")
        for name, rec in (("fhir.resources", p), ("fhir.js", j)):
            if not rec["valid"]:
                probs = rec["problems"]
                for k, msg in enumerate(probs[:4]):
                    print(f"  {name + ':' if k == 0 else '':20} {clip(msg)}")
                if len(probs) > 4:
                    print(f"  {'':20} … {len(probs) - 4} more")
        for k, msg in enumerate(itk_issues(i)):
            label = f"itkbridge ({verdict(i)}):" if k == 0 else ""
            print(f"  {label:20} {clip(msg)}")
    print(f"\nagree: FAILED: {summary}; {len(rows)} disagreement(s)")
    return 1


def main(argv):
    if len(argv) == 4 and argv[1] == "build":
        return build(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "judge":
        return judge(argv[2])
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
