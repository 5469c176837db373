#!/usr/bin/env python3
"""Acceptance of `octet export-qdq` against ONNX Runtime: the exported Q/DQ model computes what octet's INT8 engine does.

For each reference model: `octet calibrate --method entropy` on the first 512 Fashion-MNIST training images,
`octet export-qdq` with that cache, then
  - onnx.checker.check_model (full check) on the exported file;
  - ONNX Runtime (CPUExecutionProvider) runs the exported model on the 10,000 t10k images, preprocessed as
    models/<name>.json says (the formula of datasets/preprocessing.h, as tools/peers/ort_calibrate.py applies
    it), twice: with all graph optimizations (ORT fuses DQ -> Conv/Gemm -> Q into its integer kernels) and
    with basic ones only (DequantizeLinear, then float Conv/Gemm: the arithmetic closest to octet's epilogue);
  - octet's own INT8 engine, built from the same cache (`octet build --int8 --backend cpu`), is evaluated on the
    same images (`octet eval`).
Accepted when |ORT top-1 - octet INT8 top-1| <= 0.1 percentage points for every model, both ORT runs.
Prints a table: FP32 (ORT on the original model), octet INT8, ORT on the exported Q/DQ model.
Exit 0 when every model is accepted; 1 otherwise.
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import onnxruntime

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "peers"))
from ort_calibrate import preprocess, read_idx_images  # noqa: E402  (the calibration peer's reader and formula)

MODELS = ["resnet_fmnist", "mobilenetv2_fmnist", "inception_fmnist", "mlp_fmnist"]
DATA = "/usr/share/datasets/fashion-mnist"
TRAIN = os.path.join(DATA, "train-images-idx3-ubyte.gz")
TEST_IMAGES = os.path.join(DATA, "t10k-images-idx3-ubyte.gz")
TEST_LABELS = os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")
TOLERANCE_PP = 0.1


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        if f.read(4) != b"\x00\x00\x08\x01":
            sys.exit(f"{path}: not an IDX uint8 rank-1 labels file")
        f.read(4)  # count
        return np.frombuffer(f.read(), dtype=np.uint8).astype(np.int64)


def octet(binary, *args):
    result = subprocess.run([binary, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"octet {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def ort_correct(model_path, images, labels, level):
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = level
    session = onnxruntime.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    # np.argmax picks the lowest index among equal logits, as octet eval does.
    predictions = np.concatenate([np.argmax(session.run(None, {name: images[i:i + 1000]})[0], axis=1)
                                  for i in range(0, len(images), 1000)])
    return int((predictions == labels).sum())


def octet_int8(binary, name, tmp):
    """Calibrates, exports and builds `name` from one cache; returns the Q/DQ file and the INT8 plan's correct count."""
    model = os.path.join(ROOT, "models", name + ".onnx")
    cache, qdq, plan = (os.path.join(tmp, name + ext) for ext in (".cache", ".qdq.onnx", ".plan"))
    octet(binary, "calibrate", model, "--data", TRAIN, "--max-images", "512", "--batch", "64", "--method", "entropy",
          "--cache", cache, "--backend", "cpu")
    octet(binary, "export-qdq", model, "--calib", cache, "--out", qdq)
    octet(binary, "build", model, "--int8", "--calib", cache, "--save-engine", plan, "--backend", "cpu")
    evaluation = octet(binary, "eval", plan, "--data", TEST_IMAGES, "--batch", "250")
    match = re.search(r"^top-1 .*\((\d+) correct\)", evaluation, re.M)
    if not match:
        sys.exit(f"no top-1 count in octet eval's output:\n{evaluation}")
    return qdq, int(match.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--octet", required=True)
    args = ap.parse_args()
    for path in (TRAIN, TEST_IMAGES, TEST_LABELS):
        if not os.path.exists(path):
            print(f"FAIL: {path} missing (Debian's dataset-fashion-mnist)")
            return 1
    all_opt, basic = (onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
                      onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    pixels = read_idx_images(TEST_IMAGES, 0)
    labels = read_idx_labels(TEST_LABELS)
    n = len(labels)
    pct = lambda correct: 100.0 * correct / n
    rows, failures = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        # octet's INT8 CPU evaluation dominates the run time and keeps about one core busy: one model per core.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            octet_results = list(pool.map(lambda name: octet_int8(args.octet, name, tmp), MODELS))
        for name, (qdq, int8) in zip(MODELS, octet_results):
            with open(os.path.join(ROOT, "models", name + ".json")) as f:
                images = preprocess(pixels, json.load(f)["preprocessing"])
            onnx.checker.check_model(onnx.load(qdq), full_check=True)
            fp32 = ort_correct(os.path.join(ROOT, "models", name + ".onnx"), images, labels, all_opt)
            ort_all, ort_basic = (ort_correct(qdq, images, labels, level) for level in (all_opt, basic))
            worst = max(abs(pct(ort_all) - pct(int8)), abs(pct(ort_basic) - pct(int8)))
            ok = worst <= TOLERANCE_PP + 1e-9
            failures += not ok
            rows.append((name, pct(fp32), pct(int8), pct(ort_all), pct(ort_basic), worst, ok))
    print(f"{'model':20s} {'FP32':>7s} {'octet INT8':>10s} {'ORT Q/DQ':>9s} {'ORT Q/DQ basic':>14s} {'max |diff| pp':>13s}")
    for name, fp32, int8, ort_all, ort_basic, worst, ok in rows:
        print(f"{name:20s} {fp32:6.2f}% {int8:9.2f}% {ort_all:8.2f}% {ort_basic:13.2f}% {worst:13.2f}  "
              f"{'ok' if ok else 'FAIL'}")
    print(f"FP32: ONNX Runtime on the original model. ORT Q/DQ: ONNX Runtime {onnxruntime.__version__} "
          f"CPUExecutionProvider on the exported model, all graph optimizations; basic: basic ones only. "
          f"{n} t10k images; tolerance {TOLERANCE_PP} pp")
    print(f"{len(rows) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
