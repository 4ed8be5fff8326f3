#!/usr/bin/env python3
"""Compile the official StructureDefinitions, ValueSets and CodeSystems into
the validator's embedded profile table, src/validate/profiles/compiled.json.

Run from the crate root with ../shared present:

    python3 tools/gen-profiles.py [../shared/specs]

What goes in (nothing hand-typed; every constraint comes from a snapshot):

* every profile of ../shared/specs/{careconnect,toc,itk3-messaging}/StructureDefinition
  (snapshots; NHS Digital / HL7 UK, Apache-2.0 via nhsconnect/ITK3-FHIR-eDischarge,
  OGL v3 for the STU3-FHIR-Assets copies) and the core extensions in
  fhir-stu3-core/StructureDefinition/extensions (HL7 FHIR, CC0), including
  data-absent-reason (crosswalk R37);
* from the core resource and datatype definitions (HL7 FHIR STU3 3.0.1, CC0):
  the bindings (required, extensible, preferred) that the generic pass checks
  on every resource, and the base cardinalities used to prune profiles;
* the value sets those bindings name, expanded where they can be enumerated
  from the CodeSystems we hold (compose.include with concepts, whole code
  systems we have, imports; excludes removed). A value set that needs a
  terminology server (SNOMED CT refsets, ECL filters, external systems) is
  written as null: the validator reports it as "not checked", never as passed.

Each profile becomes a tree of element nodes holding only what the profile
adds to core FHIR (min/max, type and target-profile restrictions, fixed and
pattern values, bindings, slicing and slices); subtrees that add nothing are
pruned, and so is everything below an element the profile prohibits (0..0).

Node keys: n name (last path segment, `value[x]` kept), s slice name, min,
max, t allowed type codes, pr {type: [profile urls]}, tg [target profiles],
f fixed value, fx fixed value's type suffix, p pattern, pt pattern's type,
b [strength, value set url], sl {d: [[type, path]...], r: rules, o: ordered},
c children, ss slices.
"""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET

SPECS = sys.argv[1] if len(sys.argv) > 1 else "../shared/specs"
OUT = "src/validate/profiles/compiled.json"
F = "{http://hl7.org/fhir}"
XHTML = "{http://www.w3.org/1999/xhtml}"

# ---------------------------------------------------------------- FHIR XML

# Elements that repeat in the definitional resources we read.
REPEATING = {
    "element", "type", "profile", "targetProfile", "constraint", "discriminator",
    "include", "exclude", "concept", "filter", "valueSet", "contains",
    "extension", "coding", "mapping", "alias", "designation", "property",
    "condition", "contact", "telecom", "jurisdiction", "useContext", "identifier",
    "aggregation", "example", "utilisedAsset", "parameter",
}


def xml_to_obj(el):
    """Minimal FHIR XML -> JSON-ish dict for definitional resources."""
    obj = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag
        if tag.startswith(XHTML):
            continue
        name = tag[len(F):] if tag.startswith(F) else tag
        if "value" in child.attrib and len([c for c in child if isinstance(c.tag, str)]) == 0:
            val = child.attrib["value"]
        else:
            val = xml_to_obj(child)
            if "value" in child.attrib:
                val["value"] = child.attrib["value"]
        if name in REPEATING or (name == "code" and isinstance(val, dict)):
            obj.setdefault(name, []).append(val)
        elif name in obj:
            if not isinstance(obj[name], list):
                obj[name] = [obj[name]]
            obj[name].append(val)
        else:
            obj[name] = val
    return obj


def load(path):
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    root = ET.parse(path).getroot()
    obj = xml_to_obj(root)
    obj["resourceType"] = root.tag[len(F):]
    return obj


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


# Fixed / pattern values read from XML are strings; type them for JSON.
NUMERIC = {"integer", "positiveInt", "unsignedInt", "decimal"}


def typed(kind, v):
    if isinstance(v, str):
        if kind == "boolean":
            return v == "true"
        if kind in NUMERIC:
            try:
                return int(v) if kind != "decimal" else float(v)
            except ValueError:
                return v
    return v


def complex_value(v, type_code):
    """Fixed/pattern complex values read from XML: lists where FHIR repeats."""
    if not isinstance(v, dict):
        return v
    out = {}
    for k, x in v.items():
        if k in ("coding",) and not isinstance(x, list):
            x = [x]
        if isinstance(x, list):
            out[k] = [complex_value(i, None) for i in x]
        elif isinstance(x, dict):
            out[k] = complex_value(x, None)
        else:
            out[k] = x
    return out


# ---------------------------------------------------------------- core data

core_sd = {}
for p in glob.glob(os.path.join(SPECS, "fhir-stu3-core/StructureDefinition/*.json")):
    sd = load(p)
    core_sd[sd["url"]] = sd
core_elements = {}
for sd in core_sd.values():
    if sd.get("derivation") == "constraint":
        continue
    for e in sd.get("snapshot", {}).get("element", []):
        core_elements.setdefault(e["path"], e)

nhs_sd = {}
for folder in ("careconnect", "toc", "itk3-messaging"):
    for p in sorted(glob.glob(os.path.join(SPECS, folder, "StructureDefinition/*.xml"))):
        sd = load(p)
        nhs_sd[sd["url"]] = sd
for p in sorted(glob.glob(os.path.join(SPECS, "fhir-stu3-core/StructureDefinition/extensions/*.json"))):
    sd = load(p)
    nhs_sd[sd["url"]] = sd
# Core constraint profiles on datatypes (SimpleQuantity, Age, ...) are profiles too.
for url, sd in core_sd.items():
    if sd.get("derivation") == "constraint" and sd.get("kind") != "resource":
        nhs_sd.setdefault(url, sd)

value_sets = {}
code_systems = {}
for folder in ("fhir-stu3-core", "careconnect", "toc", "itk3-messaging"):
    for p in glob.glob(os.path.join(SPECS, folder, "ValueSet/*")):
        vs = load(p)
        value_sets[vs["url"]] = vs
    for p in glob.glob(os.path.join(SPECS, folder, "CodeSystem/*")):
        cs = load(p)
        code_systems[cs["url"]] = cs


def cs_codes(url):
    cs = code_systems.get(url)
    if cs is None or cs.get("content", "complete") not in ("complete",):
        return None
    out = []

    def walk(concepts):
        for c in as_list(concepts):
            out.append(c["code"])
            walk(c.get("concept"))

    walk(cs.get("concept"))
    return out


def find_concept(concepts, code):
    for c in as_list(concepts):
        if c.get("code") == code:
            return c
        hit = find_concept(c.get("concept"), code)
        if hit is not None:
            return hit
    return None


def selectable(c):
    """v3 abstract concepts (notSelectable = true) are not valid codes."""
    for p in as_list(c.get("property")):
        if p.get("code") == "notSelectable" and p.get("valueBoolean") in (True, "true"):
            return False
    return True


def filter_codes(system, flt):
    """Codes of a `concept is-a | descendent-of X` filter over a code system
    we hold with its hierarchy; None for any other filter."""
    cs = code_systems.get(system)
    if cs is None or cs.get("content", "complete") != "complete":
        return None
    if scalar(flt.get("property")) != "concept":
        return None
    op, value = scalar(flt.get("op")), scalar(flt.get("value"))
    if op not in ("is-a", "descendent-of"):
        return None
    root = find_concept(cs.get("concept"), value)
    if root is None:
        return None
    out = []

    def walk(c, include_self):
        if include_self and selectable(c):
            out.append(c["code"])
        for k in as_list(c.get("concept")):
            walk(k, True)

    walk(root, op == "is-a")
    return out


def expand(url, seen=()):
    """{system: [codes]} or None when the value set cannot be enumerated."""
    url = url.split("|")[0]
    vs = value_sets.get(url)
    if vs is None or url in seen:
        return None
    comp = vs.get("compose")
    if comp is None:
        exp = vs.get("expansion")
        if exp is None:
            return None
        res = {}
        for c in as_list(exp.get("contains")):
            res.setdefault(c["system"], []).append(c["code"])
        return res
    res = {}
    for inc in as_list(comp.get("include")):
        part = {}
        if inc.get("filter"):
            system = inc.get("system")
            codes = None
            for flt in as_list(inc.get("filter")):
                got = filter_codes(system, flt)
                if got is None:
                    return None
                codes = got if codes is None else [c for c in codes if c in set(got)]
            for s_, cs_ in {system: codes or []}.items():
                res.setdefault(s_, []).extend(cs_)
            continue
        for imp in as_list(inc.get("valueSet")):
            sub = expand(imp, seen + (url,))
            if sub is None:
                return None
            for s, codes in sub.items():
                part.setdefault(s, []).extend(codes)
        system = inc.get("system")
        if system:
            if inc.get("concept"):
                codes = [c["code"] for c in as_list(inc["concept"])]
            else:
                codes = cs_codes(system)
                if codes is None:
                    return None
            if inc.get("valueSet"):
                keep = set(codes)
                part = {system: [c for c in part.get(system, []) if c in keep]}
            else:
                part = {system: codes}
        for s, codes in part.items():
            res.setdefault(s, []).extend(codes)
    for exc in as_list(comp.get("exclude")):
        if exc.get("filter") or exc.get("valueSet"):
            return None
        system = exc.get("system")
        drop = {c["code"] for c in as_list(exc.get("concept"))} if exc.get("concept") else None
        if system in res:
            res[system] = [] if drop is None else [c for c in res[system] if c not in drop]
    return {s: sorted(set(c)) for s, c in sorted(res.items())}


used_value_sets = set()


def binding_of(e):
    b = e.get("binding")
    if not b:
        return None
    strength = b.get("strength")
    ref = b.get("valueSetReference")
    url = None
    if isinstance(ref, dict):
        url = ref.get("reference")
    if url is None:
        url = b.get("valueSetUri")
    if not url or strength not in ("required", "extensible", "preferred"):
        return None
    url = url.split("|")[0]
    used_value_sets.add(url)
    return [strength, url]


# ---------------------------------------------------------------- profiles


def types_of(e):
    return as_list(e.get("type"))


def scalar(v):
    """A primitive read from XML may carry extensions: keep its value."""
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, dict):
        return v.get("value")
    return v


def type_codes(e):
    return [scalar(t.get("code")) for t in types_of(e) if scalar(t.get("code"))]


def fixed_and_pattern(e):
    f = p = None
    for k, v in e.items():
        if k.startswith("fixed"):
            f = (k[5:], v)
        elif k.startswith("pattern"):
            p = (k[7:], v)
    return f, p


def last_segment(path):
    return path.rsplit(".", 1)[-1]


def core_lookup(path):
    """The core element for a path, following datatypes (`Patient.meta.versionId`
    -> `Meta.versionId`) and choice names (`value[x]`)."""
    if path in core_elements:
        return core_elements[path]
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        e = core_elements.get(head)
        if e is None:
            continue
        codes = type_codes(e)
        if len(codes) == 1 and codes[0][:1].isupper() and codes[0] not in ("BackboneElement", "Element"):
            return core_lookup(".".join([codes[0]] + parts[i:]))
        if codes and codes[0] in ("BackboneElement", "Element"):
            return None
        return None
    return None


def compile_node(e):
    node = {"n": last_segment(e["path"])}
    if e.get("sliceName"):
        node["s"] = e["sliceName"]
    node["min"] = int(e.get("min", 0))
    node["max"] = str(e.get("max", "*"))
    base = e.get("base") or {}
    core = core_lookup(base.get("path", e["path"])) or core_lookup(e["path"])
    core_types = type_codes(core) if core else None
    codes = type_codes(e)
    if codes and (core_types is None or sorted(set(codes)) != sorted(set(core_types))):
        node["t"] = sorted(set(codes))
    prof = {}
    targets = []
    core_targets = set()
    if core:
        for t in types_of(core):
            core_targets.update(as_list(t.get("targetProfile")))
    for t in types_of(e):
        for pr in as_list(t.get("profile")):
            prof.setdefault(scalar(t.get("code")), []).append(pr)
        for tg in as_list(t.get("targetProfile")):
            if tg not in targets:
                targets.append(tg)
    if prof:
        node["pr"] = prof
    if targets and set(targets) != core_targets:
        node["tg"] = targets
    f, p = fixed_and_pattern(e)
    if f:
        node["fx"] = f[0]
        node["f"] = typed(f[0], complex_value(f[1], f[0]))
    if p:
        node["pt"] = p[0]
        node["p"] = typed(p[0], complex_value(p[1], p[0]))
    b = binding_of(e)
    core_b = binding_of(core) if core else None
    if b and b != core_b:
        node["b"] = b
    s = e.get("slicing")
    if s:
        node["sl"] = {
            "d": [[scalar(d.get("type")), scalar(d.get("path"))] for d in as_list(s.get("discriminator"))],
            "r": scalar(s.get("rules")) or "open",
        }
        if s.get("ordered") in ("true", True):
            node["sl"]["o"] = True
    node["_base"] = (int(base.get("min", node["min"])), str(base.get("max", node["max"])))
    return node


def normalise_choice(path, choices):
    """`X.medicationReference.id` -> `X.medication[x].id` when `X.medication[x]`
    is a choice element seen earlier in the snapshot."""
    parts = path.split(".")
    for i in range(1, len(parts)):
        prefix = ".".join(parts[:i])
        seg = parts[i]
        for j in range(len(seg) - 1, 0, -1):
            if seg[j].isupper() and f"{prefix}.{seg[:j]}" in choices:
                parts[i] = seg[:j] + "[x]"
                break
    return ".".join(parts)


def build_tree(sd):
    """Nest snapshot elements by path and slice (match by path + sliceName)."""
    elements = sd.get("snapshot", {}).get("element", [])
    if not elements:
        return None
    root = compile_node(elements[0])
    root["_path"] = elements[0]["path"]
    stack = [root]
    choices = set()  # paths of choice elements, without "[x]"
    for e in elements[1:]:
        node = compile_node(e)
        path = normalise_choice(e["path"], choices)
        bpath = (e.get("base") or {}).get("path", "")
        if bpath.endswith("[x]") and not path.endswith("[x]"):
            # the snapshot names only the type-specific form
            stem = bpath.rsplit(".", 1)[-1][:-3]
            head, seg = path.rsplit(".", 1)
            if seg.startswith(stem) and seg[len(stem):][:1].isupper():
                choices.add(f"{head}.{stem}")
                path = f"{head}.{stem}[x]"
        if path.endswith("[x]"):
            choices.add(path[:-3])
        if path != e["path"]:
            # Forge's type-specific slice of a choice (medicationReference
            # for medication[x], §12.10): a slice of the [x] element that
            # admits one type.
            seg = e["path"].rsplit(".", 1)[-1] if path.endswith("[x]") else None
            if seg:
                node["n"] = path.rsplit(".", 1)[-1]
                node.setdefault("t", [seg[len(node["n"]) - 3:]])
        node["_path"] = path
        parent_path = path.rsplit(".", 1)[0]
        if e.get("sliceName"):
            # A slice: attach to the most recent open node with the same path
            # (the sliced element, or for re-slicing the slice it refines).
            probe = list(stack)
            while probe and probe[-1]["_path"] != path:
                probe.pop()
            if not probe:
                # No base element in the snapshot (Forge writes only the
                # type-specific slice of a choice): an ordinary element.
                node.pop("s", None)
                while stack and stack[-1]["_path"] != parent_path:
                    stack.pop()
                stack[-1].setdefault("c", []).append(node)
                stack.append(node)
                continue
            stack[:] = probe
            base = stack[-1]
            # Re-slicing 'a/b' belongs to slice 'a'; plain slices to the base.
            owner = base
            if "/" in e["sliceName"]:
                pass
            elif "s" in base:
                # the previous slice of the same element: go back to its base
                owner = base["_slice_of"]
            owner.setdefault("ss", []).append(node)
            node["_slice_of"] = owner
            stack.append(node)
            continue
        while stack and stack[-1]["_path"] != parent_path:
            stack.pop()
        if not stack:
            raise SystemExit(f"{sd['url']}: no parent for {path}")
        stack[-1].setdefault("c", []).append(node)
        stack.append(node)
    return root


def constrains(node):
    """Whether the node adds anything to core FHIR."""
    bmin, bmax = node["_base"]
    sl = node.get("sl")
    if sl and sl["r"] == "open" and not node.get("ss") and not sl.get("o"):
        # Forge writes "sliced by url, open" on every extension element;
        # with no slices that adds nothing.
        node = {k: v for k, v in node.items() if k != "sl"}
    return (
        node["min"] != bmin
        or node["max"] != bmax
        or any(k in node for k in ("t", "pr", "tg", "f", "p", "b", "sl", "s"))
    )


def prune(node):
    """Drop subtrees without constraints; nothing below a 0..0 element."""
    if node["max"] == "0":
        node.pop("c", None)
        node.pop("ss", None)
        return True
    kids = [k for k in node.get("c", []) if prune(k)]
    sl = node.get("sl")
    if sl and sl["r"] == "open" and not node.get("ss") and not sl.get("o"):
        node.pop("sl")
    slices = [s for s in node.get("ss", []) if prune(s) or True]
    if kids:
        node["c"] = kids
    else:
        node.pop("c", None)
    if slices:
        node["ss"] = slices
    else:
        node.pop("ss", None)
    return bool(kids) or bool(slices) or constrains(node)


def clean(node):
    for k in ("_base", "_path", "_slice_of"):
        node.pop(k, None)
    for k in node.get("c", []):
        clean(k)
    for s in node.get("ss", []):
        clean(s)
    return node


profiles = {}
for url, sd in sorted(nhs_sd.items()):
    tree = build_tree(sd)
    if tree is None:
        continue
    prune(tree)
    profiles[url] = {
        "type": scalar(sd.get("type")) or scalar(sd.get("constrainedType")),
        "base": scalar(sd.get("baseDefinition")),
        "version": scalar(sd.get("version")),
        "kind": scalar(sd.get("kind")),
        "root": clean(tree),
    }

# Core bindings: checked on every instance by the generic pass.
core_bindings = {}
for sd in sorted(core_sd.values(), key=lambda s: s["url"]):
    if sd.get("derivation") == "constraint":
        continue
    for e in sd.get("snapshot", {}).get("element", []):
        b = binding_of(e)
        if b and e["path"].count(".") >= 1:
            if e.get("base", {}).get("path", e["path"]) != e["path"]:
                continue  # inherited (Resource.language ...): keyed once at its origin
            core_bindings[e["path"]] = b

# Profiles that bind a core value set stricter must be expandable too.
vs_out = {}
for url in sorted(used_value_sets):
    vs_out[url] = expand(url)

# Displays for the code systems we hold (Coding.display checks of fixed codes).
out = {
    "_source": "Generated by tools/gen-profiles.py from ../shared/specs "
    "(HL7 FHIR STU3 3.0.1 core, CC0; NHS Digital ITK3 / Transfer of Care and "
    "HL7 UK CareConnect profiles, Apache-2.0 / OGL v3). Do not edit by hand.",
    "profiles": profiles,
    "core_bindings": core_bindings,
    "value_sets": vs_out,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w", encoding="utf-8") as f:
    json.dump(out, f, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    f.write("\n")
n_enum = sum(1 for v in vs_out.values() if v is not None)
print(
    f"{OUT}: {len(profiles)} profiles, {len(core_bindings)} core bindings, "
    f"{len(vs_out)} value sets ({n_enum} enumerable), {os.path.getsize(OUT)} bytes"
)
