#!/usr/bin/env python3
"""Where an engine's time goes, from `octet bench PLAN --export-profile P.json --export-layer-info L.json`
(run-real-models.sh writes both for every INT8 plan: <model>_b<batch>_int8_profile.json and _layers.json).

    python3 tools/gpu/profile_summary.py P.json L.json [--top 15]

Prints two markdown tables: the time per kind of layer (operator, precision, tactic: count, sum of the
layers' median times, share), and the slowest layers with the bytes they move and the rate that makes.
Bytes are what the layer reads and writes of its activations (the layer info lists no weights): int8
tensors as NHWCp (channels padded to a multiple of 4, kernels/int8_layout.h), float tensors dense.
Compare the rate with the device's copy ceiling (~2.9 TB/s read + write on an H100, the team's DEVICE.md).
Standard library only.
"""

import argparse
import collections
import json
import math


def tensor_bytes(t):
    dims = t.get("dims") or []
    if not dims:
        return 0
    if t.get("type") == "int8":
        if len(dims) >= 2:
            padded = list(dims)
            padded[1] = (dims[1] + 3) // 4 * 4
            return math.prod(padded)
        return math.prod(dims)
    size = {"float32": 4, "float16": 2, "int32": 4, "int64": 8}.get(t.get("type"), 4)
    return math.prod(dims) * size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profile", help="octet bench --export-profile JSON")
    ap.add_argument("layers", help="octet bench/build --export-layer-info JSON of the same plan")
    ap.add_argument("--top", type=int, default=15, help="slowest layers listed (default 15)")
    args = ap.parse_args()

    with open(args.profile) as f:
        profile = [entry for entry in json.load(f) if "name" in entry]
    with open(args.layers) as f:
        layers = {layer["name"]: layer for layer in json.load(f)["layers"]}

    total = sum(entry["medianMs"] for entry in profile)
    kinds = collections.defaultdict(lambda: [0, 0.0])
    rows = []
    for entry in profile:
        layer = layers.get(entry["name"], {})
        moved = sum(tensor_bytes(t) for t in layer.get("inputs", []) + layer.get("outputs", []))
        kind = (entry.get("op", "?"), entry.get("precision", "?"), entry.get("tactic") or "-")
        kinds[kind][0] += 1
        kinds[kind][1] += entry["medianMs"]
        rows.append((entry["medianMs"], entry["name"], kind, moved))

    print(f"Sum of layer medians: {total:.3f} ms over {len(profile)} layers\n")
    print("| operator | precision | tactic | layers | ms | share |")
    print("|---|---|---|---:|---:|---:|")
    for kind, (count, ms) in sorted(kinds.items(), key=lambda item: -item[1][1]):
        print(f"| {kind[0]} | {kind[1]} | {kind[2]} | {count} | {ms:.3f} | {100 * ms / total:.1f}% |")
    print(f"\n| slowest layers | operator, precision, tactic | ms | MB moved | TB/s |")
    print("|---|---|---:|---:|---:|")
    for ms, name, kind, moved in sorted(rows, reverse=True)[: args.top]:
        rate = moved / (ms * 1e-3) / 1e12 if ms > 0 else 0.0
        print(f"| `{name}` | {', '.join(kind)} | {ms:.3f} | {moved / 1e6:.1f} | {rate:.2f} |")


if __name__ == "__main__":
    main()
