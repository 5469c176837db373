#!/usr/bin/env python3
"""ONNX Runtime's static-quantization calibrator as a peer for `octet calibrate`.

Runs onnxruntime.quantization.calibrate.create_calibrator (MinMax, Entropy or Percentile) on the
same samples octet sees and prints one JSON object: {"method", "images", "onnxruntime", "seconds",
"tensors": {name: {"min", "max", "amax"}}} where amax = max(|min|, |max|) of the range ORT
computes (for Entropy and Percentile ORT itself returns a symmetric or thresholded range).

Samples: an IDX images file (Fashion-MNIST, preprocessed as the model's metadata says:
x = pixel * scale; x = (x - mean) / std in float32, the formula of datasets/preprocessing.h) or an
HDF5 file with a uint8 `images` dataset (N, H, W, C) preprocessed with --mean/--std/--scale given
on the command line, or float32 (N, C, H, W) taken as is.

Usage:
  ort_calibrate.py MODEL --data FILE [--images N] [--method minmax|entropy|percentile]
                   [--percentile P] [--batch N]
"""
import argparse
import contextlib
import gzip
import json
import os
import struct
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime
from onnxruntime.quantization.calibrate import CalibrationDataReader, CalibrationMethod, create_calibrator


def read_idx_images(path, limit):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic = f.read(4)
        if magic[:2] != b"\x00\x00" or magic[2] != 0x08 or magic[3] != 3:
            sys.exit(f"{path}: not an IDX uint8 rank-3 images file")
        n, h, w = struct.unpack(">III", f.read(12))
        n = min(n, limit) if limit else n
        data = np.frombuffer(f.read(n * h * w), dtype=np.uint8)
    return data.reshape(n, 1, h, w)


def model_preprocessing(model_path):
    model = onnx.load(model_path, load_external_data=False)
    for prop in model.metadata_props:
        if prop.key == "octet.preprocessing":
            return json.loads(prop.value)
    return {"scale": 1.0, "mean": [0.0], "std": [1.0]}


def preprocess(pixels_nchw, pre):
    """float32 throughout, the same operations in the same order as octet."""
    channels = pixels_nchw.shape[1]
    mean = np.array(pre.get("mean", [0.0]), dtype=np.float32)
    std = np.array(pre.get("std", [1.0]), dtype=np.float32)
    if mean.size == 1:
        mean = np.repeat(mean, channels)
    if std.size == 1:
        std = np.repeat(std, channels)
    x = pixels_nchw.astype(np.float32) * np.float32(pre.get("scale", 1.0))
    return (x - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)


def load_samples(args):
    if args.data.endswith((".h5", ".hdf5")):
        import h5py
        with h5py.File(args.data, "r") as f:
            images = f["images"]
            n = min(images.shape[0], args.images) if args.images else images.shape[0]
            data = images[:n]
        if data.dtype == np.uint8:
            nchw = np.ascontiguousarray(data.transpose(0, 3, 1, 2)) if data.shape[-1] in (1, 3) else data
            pre = {"scale": args.scale, "mean": args.mean, "std": args.std}
            return preprocess(nchw, pre)
        return data.astype(np.float32)
    return preprocess(read_idx_images(args.data, args.images), model_preprocessing(args.model))


class Batches(CalibrationDataReader):
    def __init__(self, input_name, samples, batch):
        self.input_name = input_name
        self.samples = samples
        self.batch = batch
        self.position = 0

    def get_next(self):
        if self.position >= len(self.samples):
            return None
        chunk = self.samples[self.position:self.position + self.batch]
        self.position += self.batch
        return {self.input_name: chunk}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--data", required=True)
    ap.add_argument("--images", type=int, default=512)
    ap.add_argument("--method", choices=["minmax", "entropy", "percentile"], default="minmax")
    ap.add_argument("--percentile", type=float, default=99.99)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--scale", type=float, default=1.0 / 255.0, help="HDF5 uint8 data only")
    ap.add_argument("--mean", type=float, nargs="+", default=[0.485, 0.456, 0.406], help="HDF5 uint8 data only")
    ap.add_argument("--std", type=float, nargs="+", default=[0.229, 0.224, 0.225], help="HDF5 uint8 data only")
    args = ap.parse_args()

    start = time.perf_counter()
    samples = load_samples(args)
    input_name = onnx.load(args.model, load_external_data=False).graph.input[0].name
    method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
              "percentile": CalibrationMethod.Percentile}[args.method]
    extra = {"percentile": args.percentile} if args.method == "percentile" else {}
    # ORT prints progress lines on stdout; keep stdout for the JSON result.
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        calibrator = create_calibrator(args.model, op_types_to_calibrate=None,
                                       augmented_model_path=os.path.join(tmp, "augmented.onnx"),
                                       calibrate_method=method, extra_options=extra)
        calibrator.collect_data(Batches(input_name, samples, args.batch))
        ranges = calibrator.compute_data()
    seconds = time.perf_counter() - start

    tensors = {}
    for name, value in ranges.data.items():
        low, high = (value.range_value if hasattr(value, "range_value") else value)
        low, high = float(np.asarray(low).reshape(-1)[0]), float(np.asarray(high).reshape(-1)[0])
        tensors[name] = {"min": low, "max": high, "amax": max(abs(low), abs(high))}
    json.dump({"method": args.method, "images": int(len(samples)), "onnxruntime": onnxruntime.__version__,
               "seconds": seconds, "tensors": tensors}, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
