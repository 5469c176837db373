#!/usr/bin/env python3
"""Acceptance of the calibration issue against ONNX Runtime's calibrator, on the same 512 images.

For each reference model: `octet calibrate --method max` on the first 512 Fashion-MNIST training
images, and ONNX Runtime's MinMax calibrator (tools/peers/ort_calibrate.py) on the same preprocessed
images. octet's amax must equal ORT's max(|min|, |max|) within 1e-6 relative for every tensor both
calibrate, and every tensor octet calibrates must be one ORT calibrates too.
With --report (needs h5py), also prints octet's entropy and percentile thresholds beside ORT's and beside
an independent NumPy implementation of the published algorithms (tests/calibration/reference_ranges.py)
applied to octet's own saved histograms — ORT uses other bin counts, so those need not match.
Exit 0 when everything agrees; 1 with the differences otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = ["resnet_fmnist", "mobilenetv2_fmnist", "inception_fmnist", "mlp_fmnist"]
TRAIN = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def octet_table(octet, model, method, tmp, extra=()):
    table = os.path.join(tmp, f"{os.path.basename(model)}.{method}.json")
    cache = os.path.join(tmp, f"{os.path.basename(model)}.{method}.cache")
    subprocess.run([octet, "calibrate", model, "--data", TRAIN, "--max-images", "512", "--batch", "64",
                    "--method", method, "--cache", cache, "--table", table, "--backend", "cpu", *extra],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(table) as f:
        return {t["name"]: t for t in json.load(f)["tensors"]}


def reference_on_histograms(h5_path, percentile):
    """amax per tensor from reference_ranges.py over the histograms octet saved."""
    import h5py
    import numpy as np
    hists = []
    with h5py.File(h5_path, "r") as f:
        for key in sorted(f["tensors"].keys()):
            g = f["tensors"][key]
            bits = lambda v: int(np.array([v], dtype=np.float32).view(np.uint32)[0])
            hists.append({"name": g.attrs["name"].decode() if isinstance(g.attrs["name"], bytes) else str(g.attrs["name"]),
                          "range_bits": bits(g.attrs["range"]), "absmax_bits": bits(g.attrs["absmax"]),
                          "counts": [int(c) for c in g["counts"][()]], "percentiles": [percentile]})
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "calibration", "reference_ranges.py")],
                         input=json.dumps({"histograms": hists}), capture_output=True, text=True, check=True)
    f32 = lambda b: float(np.array([b], dtype=np.uint32).view(np.float32)[0])
    return {r["name"]: (f32(r["entropy"]["amax_bits"]), f32(r["percentile"][0]["amax_bits"]))
            for r in json.loads(out.stdout)["results"]}


def ort_ranges(model, method, extra=()):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "peers", "ort_calibrate.py"), model,
                          "--data", TRAIN, "--images", "512", "--method", method, *extra],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["tensors"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(TRAIN):
        print(f"FAIL: {TRAIN} missing (Debian's dataset-fashion-mnist)")
        return 1
    failures = 0
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            model = os.path.join(ROOT, "models", name + ".onnx")
            octet = octet_table(args.octet, model, "max", tmp)
            ort = ort_ranges(model, "minmax")
            missing = sorted(set(octet) - set(ort))
            if missing:
                failures += 1
                print(f"{name}: tensors octet calibrates but ORT does not: {missing}")
            for tensor, row in octet.items():
                if tensor not in ort:
                    continue
                compared += 1
                expected = ort[tensor]["amax"]
                if abs(row["amax"] - expected) > 1e-6 * max(abs(expected), 1e-30):
                    failures += 1
                    print(f"{name}: {tensor}: octet amax {row['amax']!r} != ORT {expected!r}")
            print(f"{name}: {len(octet)} tensors calibrated by octet, {len(ort)} by ORT, "
                  f"{len(set(octet) & set(ort))} compared for max")
            if args.report:
                h5 = os.path.join(tmp, name + ".h5")
                octet_table(args.octet, model, "max", tmp, ["--save-histograms", h5])
                reference = reference_on_histograms(h5, 99.99)
                entropy = octet_table(args.octet, model, "entropy", tmp)
                percentile = octet_table(args.octet, model, "percentile", tmp, ["--percentile", "99.99"])
                ort_entropy = ort_ranges(model, "entropy")
                ort_percentile = ort_ranges(model, "percentile", ["--percentile", "99.99"])
                print(f"  {'tensor':44s} {'absmax':>9s} {'octet-ent':>9s} {'ref-ent':>9s} {'ort-ent':>9s} "
                      f"{'octet-p99.99':>12s} {'ref-p99.99':>10s} {'ort-p99.99':>10s}")
                for tensor, row in octet.items():
                    e, p = entropy[tensor]["amax"], percentile[tensor]["amax"]
                    oe = ort_entropy.get(tensor, {}).get("amax", float("nan"))
                    op = ort_percentile.get(tensor, {}).get("amax", float("nan"))
                    re_, rp = reference.get(tensor, (float("nan"), float("nan")))
                    print(f"  {tensor[-44:]:44s} {row['absmax']:9.4f} {e:9.4f} {re_:9.4f} {oe:9.4f} "
                          f"{p:12.4f} {rp:10.4f} {op:10.4f}")
    print(f"{compared} tensors compared, {failures} failures")
    print(f"{compared - failures if failures else compared} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
