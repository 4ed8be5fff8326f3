#!/usr/bin/env bash
# Single-thread throughput of `itkbridge convert` beside a bare quick-xml
# tokenizing pass over the same files (issue 2's yardstick).
#
#   tools/throughput.sh [MB]        (default 210)
#
# The corpus is the synthetic discharge documents of testdata/discharge plus,
# when ../shared/samples is present, the two public bare discharge samples,
# copied round-robin into folders of 500 files under target/throughput/corpus
# until it holds at least MB megabytes. Outputs go to target/throughput/out
# (same disk). Prints both figures and their ratio, the CPU time of the
# convert process (its writer thread included), and how much of the
# target's time budget reading + parsing into the tree and reading +
# hashing take on their own; timings vary with the
# machine's other load, so run it on a quiet machine and more than once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mb=${1:-210}
base=target/throughput
corpus=$base/corpus
out=$base/out

cargo build --release --bin itkbridge --example tokenize >/dev/null 2>&1 ||
    cargo build --release --bin itkbridge --example tokenize

python3 - "$corpus" "$mb" <<'EOF'
import glob, os, shutil, sys
corpus, mb = sys.argv[1], float(sys.argv[2])
srcs = sorted(glob.glob("testdata/discharge/*.xml"))
for s in ("discharge_POCD_EX150001UK06_05.xml", "generic_discharge_GenericCDAExample2.xml"):
    p = os.path.join("..", "shared", "samples", "nhs-cda", s)
    if os.path.exists(p):
        srcs.append(p)
stamp = corpus.rstrip("/") + ".made-from"  # beside the corpus, not an input
want = f"{mb} " + " ".join(srcs)
if os.path.exists(stamp) and open(stamp).read() == want:
    sys.exit(0)
shutil.rmtree(corpus, ignore_errors=True)
data = [(os.path.basename(s), open(s, "rb").read()) for s in srcs]
total, i = 0, 0
while total < mb * 1e6:
    name, d = data[i % len(data)]
    folder = os.path.join(corpus, "d%03d" % (i // 500))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "f%05d_%s" % (i, name)), "wb") as f:
        f.write(d)
    total += len(d)
    i += 1
open(stamp, "w").write(want)
print(f"corpus: {i} files, {total / 1e6:.1f} MB from {len(srcs)} documents", file=sys.stderr)
EOF

# A first pass only warms the page cache (a cold tokenizer run makes the
# ratio meaningless); the figures come from the passes after it.
target/release/examples/tokenize "$corpus" >/dev/null
echo "== bare quick-xml tokenizing pass: target/release/examples/tokenize $corpus"
tok=$(target/release/examples/tokenize "$corpus")
echo "$tok"
echo "== read + decode + itkbridge tree (no mapping): target/release/examples/tokenize --tree $corpus"
tree=$(target/release/examples/tokenize --tree "$corpus")
echo "$tree"
echo "== read + SHA-256 of each file (the content hash of the ids): target/release/examples/tokenize --sha $corpus"
sha=$(target/release/examples/tokenize --sha "$corpus")
echo "$sha"
rm -rf "$out"
echo "== itkbridge convert $corpus --out $out -j 1 --stats --progress never"
python3 - "$out" "$corpus" "$tok" "$tree" "$sha" <<'PYEOF'
import json, re, resource, subprocess, sys
out, corpus, tok, tree, sha = sys.argv[1:]
rc = subprocess.call(["target/release/itkbridge", "convert", corpus, "--out", out, "-j", "1",
                      "--stats", "--progress", "never"])
if rc:
    print(f"(convert exited {rc}: some documents failed)")
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
r = json.load(open(out + "/report.json"))
def fig(line):
    m = re.search(r"in ([\d.]+)s: ([\d.]+) docs/s, ([\d.]+) MB/s", line)
    return float(m.group(1)), float(m.group(2)), float(m.group(3))
(tsec, tdocs, tmb), (rsec, _, _), (ssec, _, _) = fig(tok), fig(tree), fig(sha)
print(f"convert -j 1: {r['docs_per_second']:.0f} docs/s, {r['mb_per_second']:.1f} MB/s "
      f"in {r['wall_seconds']:.2f}s wall, {ru.ru_utime + ru.ru_stime:.2f}s CPU "
      f"(worker and writer threads, user {ru.ru_utime:.2f} + system {ru.ru_stime:.2f}); "
      f"tokenizer: {tdocs:.0f} docs/s, {tmb:.1f} MB/s; ratio {r['mb_per_second'] / tmb:.3f} (target 0.5)")
print("stage seconds:", {k: round(v, 2) for k, v in r.get("stage_seconds_summed_over_threads", {}).items()})
budget = 2 * tsec
print(f"budget at the target: {budget:.2f}s (twice the tokenizing pass); read + decode + tree alone: "
      f"{rsec:.2f}s ({100 * rsec / budget:.0f}% of it); read + SHA-256 alone: {ssec:.2f}s "
      f"({100 * ssec / budget:.0f}%)")
PYEOF
