#!/usr/bin/env python3
"""Where a callgrind profile of `etcdsnap extract` spends its instructions, by kind of work.

    valgrind --tool=callgrind --callgrind-out-file=cg.out \\
        target/release/etcdsnap extract benches/data/2g/snapshot.db -A --threads 1 -o /dev/null
    python3 benches/callgrind-split.py [--max-other PERCENT] cg.out

(valgrind and callgrind_annotate: Debian's `valgrind` package.) With `--max-other`, exit 1
when more than PERCENT of the instructions fall in no group: CI's check that renamed code has
not slipped out of the groups.

Each function's own instructions (callgrind_annotate's self cost, inlined code counted where
callgrind puts it) go to the first group whose pattern matches. Library code is grouped by the
file it comes from before the crate it was inlined into, so that a hash computed inside the
protobuf renderer counts as hashing, not as rendering. The first four groups are the cost of
building, keeping and freeing a `serde_json::Value` tree: what a renderer writing YAML straight
from the wire would not pay (an upper bound: part of the allocations are output buffers, and
the scans' and the schema's own hash maps count there too, well under 1% on 2 GiB).
"""

import re
import subprocess
import sys

# (group, pattern over "file:function"), first match wins.
GROUPS = [
    ("value tree: SipHash of map keys", r"hash/sip\.rs|core::hash::sip|hash_one|hash/random\.rs|core/src/hash/mod\.rs"),
    ("value tree: IndexMap and its table", r"/indexmap-|/hashbrown-|indexmap::|hashbrown::"),
    ("value tree: allocation and free", r"mimalloc|__rust_alloc|__rust_dealloc|__rust_realloc|raw_vec|finish_grow"),
    ("value tree: drops", r"drop_in_place|as core::ops::drop::Drop>::drop"),
    ("JSON parsing (values stored as JSON)", r"/serde_json-[^/]*/src/(de|read)\.rs|/serde_core-|serde_json::(de|read|value::de)"),
    ("memcpy", r"memmove|memcpy"),
    ("memcmp (mostly sorting keys in the scans)", r"memcmp"),
    ("UTF-8 validation", r"from_utf8|str/validations\.rs"),
    ("base64 of bytes fields", r"base64"),
    ("sorting", r"/sort/|slice::sort::"),
    ("memchr and memset", r"memchr|memset"),
    ("YAML writer", r"k8s_decode::yaml"),
    ("cleaning and skips", r"k8s_decode::clean|extract::process"),
    ("owner peek", r"k8s_decode::peek"),
    ("protobuf decode", r"k8s_decode::(render|wire|special|decode|schema)"),
    ("scans (bbolt, MVCC, keys)", r"etcd_snapshot|k8s_decode::keys|k8s_decode::resources|extract::select"),
]


def self_costs(profile):
    out = subprocess.run(
        ["callgrind_annotate", "--auto=no", "--threshold=100", profile],
        check=True, capture_output=True, text=True,
    ).stdout
    total = None
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in m.group(2):
            total = n
        else:
            yield n, m.group(2)
    if total is None:
        sys.exit(f"{profile}: no PROGRAM TOTALS in callgrind_annotate's output")


def instructions(n):
    return f"{n / 1e9:.2f}G" if n >= 1e9 else f"{n / 1e6:.1f}M"


def main():
    args = sys.argv[1:]
    max_other = None
    if len(args) == 3 and args[0] == "--max-other":
        max_other, args = float(args[1]), args[2:]
    if len(args) != 1:
        sys.exit(__doc__)
    sums, total = {}, 0
    for n, function in self_costs(args[0]):
        group = next((g for g, rx in GROUPS if re.search(rx, function)), "other")
        sums[group] = sums.get(group, 0) + n
        total += n
    print("| work | instructions | share |\n|---|---|---|")
    for group, _ in GROUPS + [("other", None)]:
        n = sums.get(group, 0)
        print(f"| {group} | {instructions(n)} | {100 * n / total:.1f}% |")
    tree = sum(n for g, n in sums.items() if g.startswith("value tree"))
    print(f"| **the value tree, together** | {instructions(tree)} | {100 * tree / total:.1f}% |")
    print(f"| all | {instructions(total)} | 100% |")
    other = 100 * sums.get("other", 0) / total
    if max_other is not None and other > max_other:
        sys.exit(f"{other:.1f}% of the instructions are in no group (at most {max_other}% expected)")


if __name__ == "__main__":
    main()
