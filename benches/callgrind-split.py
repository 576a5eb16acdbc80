#!/usr/bin/env python3
"""Where a callgrind profile of `etcdsnap extract` spends its instructions, by kind of work.

    valgrind --tool=callgrind --callgrind-out-file=cg.out \\
        target/release/etcdsnap extract benches/data/2g/snapshot.db -A --threads 1 -o /dev/null
    python3 benches/callgrind-split.py cg.out

Each function's own instructions (callgrind_annotate's self cost, inlined code counted where
callgrind puts it) go to the first group whose pattern matches. Library code is grouped by the
file it comes from before the crate it was inlined into, so that a hash computed inside the
protobuf renderer counts as hashing, not as rendering. The first four groups are the cost of
building, keeping and freeing a `serde_json::Value` tree: what a renderer writing YAML straight
from the wire would not pay (an upper bound: part of the allocations are output buffers).
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


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sums, total = {}, 0
    for n, function in self_costs(sys.argv[1]):
        group = next((g for g, rx in GROUPS if re.search(rx, function)), "other")
        sums[group] = sums.get(group, 0) + n
        total += n
    print(f"| work | instructions | share |\n|---|---|---|")
    for group, _ in GROUPS + [("other", None)]:
        n = sums.get(group, 0)
        print(f"| {group} | {n / 1e9:.2f}G | {100 * n / total:.1f}% |")
    tree = sum(n for g, n in sums.items() if g.startswith("value tree"))
    print(f"| **the value tree, together** | {tree / 1e9:.2f}G | {100 * tree / total:.1f}% |")
    print(f"| all | {total / 1e9:.2f}G | 100% |")


if __name__ == "__main__":
    main()
