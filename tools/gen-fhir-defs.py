#!/usr/bin/env python3
"""Generate src/fhir/stu3-elements.txt from the HL7 FHIR STU3 (3.0.1) StructureDefinitions.

Usage: python3 tools/gen-fhir-defs.py [SPEC_DIR] [OUT_FILE]

SPEC_DIR defaults to /work/shared/specs/fhir-stu3-core/StructureDefinition and
OUT_FILE to src/fhir/stu3-elements.txt (relative to the repository root).
Standard library only. The output is committed; nothing reads SPEC_DIR at run time.

Output format (tab separated, one record per line, '#' lines are comments):

  primitive <name> <base>   -        -  <regex or ->
  datatype  <name> <base>   <abstract|->  -
  resource  <name> <base>   <abstract|->  -
  <owner>   <json name> <types, comma separated> <min> <max>

Element lines for one owner appear in snapshot order (the FHIR serialisation
order). Owners are type names or backbone paths (e.g. Patient.contact).
Choice elements value[x] are expanded to one line per type (valueString, ...).
Inline BackboneElement/Element children get their backbone path as type;
contentReference elements get the referenced path as type.
"""

import glob
import json
import os
import sys

DEFAULT_SPEC = "/work/shared/specs/fhir-stu3-core/StructureDefinition"
REGEX_URLS = (
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-regex",
    "http://hl7.org/fhir/StructureDefinition/regex",
)
# Constraint profiles on Quantity that elements can be typed with. In 3.0.1 only
# SimpleQuantity is a constraint (Age, Count, Distance, Duration, Money are
# specializations with their own snapshots); MoneyQuantity does not exist in
# STU3 and is kept here only so a newer package would be picked up.
QUANTITY_PROFILES = {"SimpleQuantity", "MoneyQuantity"}


def upper_first(s):
    return s[:1].upper() + s[1:]


def type_regex(elem):
    for t in elem.get("type") or []:
        for ext in t.get("extension") or []:
            if ext.get("url") in REGEX_URLS:
                return ext.get("valueString")
    for ext in elem.get("extension") or []:
        if ext.get("url") in REGEX_URLS:
            return ext.get("valueString")
    return None


def check_field(s, what):
    if "\t" in s or "\n" in s:
        raise SystemExit(f"tab/newline in {what}: {s!r}")
    return s


def process(sd, name, kind, rows, owners_order):
    """Append element rows for one StructureDefinition (owner = name)."""
    elems = sd["snapshot"]["element"]
    root = elems[0]["path"]  # e.g. "Quantity" for SimpleQuantity
    paths = [e["path"] for e in elems]
    has_children = set()
    for p in paths:
        if "." in p:
            has_children.add(p.rsplit(".", 1)[0])

    def rename(path):
        return name + path[len(root):]

    for e in elems[1:]:
        path = e["path"]
        parent, last = path.rsplit(".", 1)
        if kind == "primitive-type" and path == root + ".value":
            continue  # primitive value: carried by the primitive line itself
        owner = rename(parent)
        if owner not in rows:
            rows[owner] = []
            owners_order.append(owner)
        mn = str(int(e.get("min", 0)))
        mx = e.get("max", "1")
        if mx not in ("0", "1", "*"):
            mx = "*" if mx.isdigit() and int(mx) > 1 else mx
        if "contentReference" in e:
            ref = e["contentReference"].lstrip("#")
            types = [rename(ref) if ref.startswith(root) else ref]
        else:
            types = []
            for t in e.get("type") or []:
                code = t.get("code")
                if code is None:
                    raise SystemExit(f"{name}: type without code at {path}")
                if code not in types:
                    types.append(code)
            if path in has_children:
                # BackboneElement / Element defined inline
                types = [rename(path)]
        if not types:
            raise SystemExit(f"{name}: no type at {path}")
        if last.endswith("[x]"):
            stem = last[:-3]
            for t in types:
                rows[owner].append((stem + upper_first(t), t, mn, mx))
        else:
            rows[owner].append((last, ",".join(types), mn, mx))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SPEC
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "src", "fhir", "stu3-elements.txt")

    sds = []
    for f in sorted(glob.glob(os.path.join(spec, "StructureDefinition-*.json"))):
        with open(f, encoding="utf-8") as fh:
            sds.append(json.load(fh))

    by_kind = {"primitive-type": [], "complex-type": [], "resource": []}
    for sd in sds:
        if sd.get("resourceType") != "StructureDefinition" or "snapshot" not in sd:
            continue
        kind = sd.get("kind")
        if kind not in by_kind:
            continue
        deriv = sd.get("derivation")
        name = sd["id"]
        if deriv == "constraint":
            if name not in QUANTITY_PROFILES:
                continue  # other constraint profiles (e.g. elementdefinition-de)
        elif deriv not in ("specialization", None):
            continue
        by_kind[kind].append(sd)

    def base_of(sd):
        b = sd.get("baseDefinition")
        return b.rsplit("/", 1)[-1] if b else "-"

    lines = [
        "# FHIR STU3 element table.",
        "# Derived from HL7 FHIR STU3 3.0.1 StructureDefinitions, CC0 1.0; generated by tools/gen-fhir-defs.py",
        "# Source: http://hl7.org/fhir/STU3 (package hl7.fhir.core 3.0.1). Do not edit by hand.",
        "#",
        "# primitive<TAB>name<TAB>base<TAB>-<TAB>-<TAB>regex|-",
        "# datatype<TAB>name<TAB>base<TAB>abstract|-<TAB>-",
        "# resource<TAB>name<TAB>base<TAB>abstract|-<TAB>-",
        "# owner<TAB>jsonName<TAB>types<TAB>min<TAB>max   (owner = type or backbone path; snapshot order)",
    ]
    for sd in sorted(by_kind["primitive-type"], key=lambda s: s["id"]):
        rx = None
        for e in sd["snapshot"]["element"]:
            if e["path"] == sd["snapshot"]["element"][0]["path"] + ".value":
                rx = type_regex(e)
        lines.append("\t".join(["primitive", sd["id"], base_of(sd), "-", "-", check_field(rx, "regex") if rx else "-"]))
    for k, label in (("complex-type", "datatype"), ("resource", "resource")):
        for sd in sorted(by_kind[k], key=lambda s: s["id"]):
            lines.append("\t".join([label, sd["id"], base_of(sd), "abstract" if sd.get("abstract") else "-", "-"]))

    rows, owners_order = {}, []
    for k in ("primitive-type", "complex-type", "resource"):
        for sd in sorted(by_kind[k], key=lambda s: s["id"]):
            process(sd, sd["id"], k, rows, owners_order)
    for owner in owners_order:
        seen = set()
        for (n, t, mn, mx) in rows[owner]:
            if n in seen:
                raise SystemExit(f"duplicate element {owner}.{n}")
            seen.add(n)
            lines.append("\t".join([owner, check_field(n, "name"), t, mn, mx]))

    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {out}: {len(lines)} lines, {len(owners_order)} owners", file=sys.stderr)


if __name__ == "__main__":
    main()
