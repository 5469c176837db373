#!/usr/bin/env python3
"""ONNX Runtime (CPU) reference tensors for the real-model zoo, on real preprocessed images.

    build/zoo-venv/bin/python tools/models/zoo/ort_reference.py [--ci] [--only id,id] [--count N]

Needs the models (fetch_zoo.py) and images (fetch_images.py). For each model: takes its reference image
(manifest "reference_image", else the first file of its "image_set" in name order), preprocesses it exactly as the
manifest says (zoo_common.preprocess: OpenCV or Pillow resize with the named interpolation, then
x = (pixel * scale - mean) / std, then layout), runs ONNX Runtime's CPUExecutionProvider with default graph
optimizations at the run shape, and writes, like ONNX's backend tests,
    build/zoo/reference/<id>/input_0.pb ...  (TensorProto named after the graph input)
    build/zoo/reference/<id>/output_0.pb ... (TensorProto named after the graph output, in graph output order)
    build/zoo/reference/<id>/meta.json       (image, shapes, ORT version, per-output min/max/mean/argmax)
With --count N > 1 the next N-1 images of the set go to test_data_set_1 ... test_data_set_<N-1>/ in the same
folder. Models whose declared input dims are placeholders (manifest "run_needs_shape_override") are run from a
copy with the input dims set to the run shape and outputs made symbolic: build/zoo/models/<id>.run.onnx.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_common as zc  # noqa: E402


def images_for(model, cache, count):
    d = os.path.join(cache, "images", model["image_set"])
    if not os.path.isdir(d):
        raise SystemExit("%s: image set %s missing in %s (run tools/models/zoo/fetch_images.py)"
                         % (model["id"], model["image_set"], d))
    files = sorted(f for f in os.listdir(d) if not f.endswith(".part"))
    first = model.get("reference_image")
    if first:
        if first not in files:
            raise SystemExit("%s: reference image %s not in %s" % (model["id"], first, d))
        files.remove(first)
        files.insert(0, first)
    return [os.path.join(d, f) for f in files[:count]]


def save(dirpath, feeds, names_out, outs):
    os.makedirs(dirpath, exist_ok=True)
    for i, (name, arr) in enumerate(feeds.items()):
        with open(os.path.join(dirpath, "input_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(arr, name).SerializeToString())
    for i, (name, arr) in enumerate(zip(names_out, outs)):
        with open(os.path.join(dirpath, "output_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(arr), name).SerializeToString())


def stats(a):
    a = np.asarray(a)
    if a.size == 0:
        return {"shape": list(a.shape), "dtype": str(a.dtype)}
    f = a.astype(np.float64)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "min": float(f.min()), "max": float(f.max()),
            "mean": float(f.mean()), "argmax_flat": int(f.argmax())}


def run_model(model, cache, count, threads):
    path = zc.model_path(model, cache)
    if not os.path.isfile(path):
        raise SystemExit("%s: %s missing (run tools/models/zoo/fetch_zoo.py)" % (model["id"], path))
    run_path = path
    if model.get("run_needs_shape_override"):
        mp = onnx.load(path)
        zc.apply_run_shapes(mp, model["run_shapes"])
        run_path = os.path.join(cache, "models", model["id"] + ".run.onnx")
        onnx.save(mp, run_path)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if threads:
        so.intra_op_num_threads = threads
    sess = ort.InferenceSession(run_path, so, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    ref_dir = os.path.join(cache, "reference", model["id"])
    meta = {"id": model["id"], "onnxruntime": ort.__version__, "provider": "CPUExecutionProvider",
            "graph_optimization_level": "ORT_ENABLE_ALL (default)", "model_file": os.path.basename(run_path),
            "model_sha256": model.get("sha256"), "preprocessing": model["preprocessing"], "sets": []}
    for k, img in enumerate(images_for(model, cache, count)):
        feeds = zc.preprocess(img, model)
        t0 = time.perf_counter()
        outs = sess.run(None, feeds)
        dt = time.perf_counter() - t0
        d = ref_dir if k == 0 else os.path.join(ref_dir, "test_data_set_%d" % k)
        save(d, feeds, out_names, outs)
        meta["sets"].append({"dir": os.path.relpath(d, ref_dir), "image": os.path.relpath(img, os.path.join(cache, "images")),
                             "inputs": {n: stats(v) for n, v in feeds.items()},
                             "outputs": {n: stats(v) for n, v in zip(out_names, outs)}, "ort_run_seconds": round(dt, 4)})
    with open(os.path.join(ref_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ci", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--count", type=int, default=1, help="images per model (default 1)")
    ap.add_argument("--threads", type=int, default=0, help="ORT intra-op threads (default: ORT's choice)")
    ap.add_argument("--cache", default=zc.CACHE)
    args = ap.parse_args()
    manifest = zc.load_manifest()
    for m in zc.select(manifest["models"], ci=args.ci, only=args.only):
        t0 = time.perf_counter()
        meta = run_model(m, args.cache, args.count, args.threads)
        s = meta["sets"][0]
        outs = ", ".join("%s %s" % (n, "x".join(map(str, v["shape"]))) for n, v in s["outputs"].items())
        print("%-24s %-40s -> %s (%.1fs)" % (m["id"], s["image"], outs[:90], time.perf_counter() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
