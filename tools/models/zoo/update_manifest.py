#!/usr/bin/env python3
"""Fill the computed fields of models/zoo/manifest.json from the fetched files (maintainer tool).

    build/zoo-venv/bin/python tools/models/zoo/update_manifest.py [--only id,id] [--check]

Hand-written fields (id, task, source package/version/member/license, run_shapes, preprocessing, image_set, ci)
are left alone. From build/zoo/models/<id>.onnx and build/zoo/wheels/ this writes: sha256, size_bytes,
source.archive, source.archive_sha256, opset_imports, ir_version, producer, inputs (declared dims; which are
dynamic), outputs (declared dims, and the dims ONNX Runtime 1.30 CPU produces at the run shape). --check only
reports differences and exits 1 if there are any.
"""

import argparse
import hashlib
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_common as zc  # noqa: E402
from fetch_zoo import find_archive, sha256_file  # noqa: E402

DTYPES = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8}


def describe(model, path):
    mp = onnx.load(path)
    entry = {}
    entry["sha256"] = sha256_file(path)
    entry["size_bytes"] = os.path.getsize(path)
    entry["ir_version"] = mp.ir_version
    entry["opset_imports"] = {(o.domain or "ai.onnx"): o.version for o in mp.opset_import}
    entry["producer"] = ("%s %s" % (mp.producer_name, mp.producer_version)).strip() or "(empty)"
    ins = []
    for vi in zc.graph_inputs(mp):
        d = zc.dims_of(vi)
        ins.append({"name": vi.name, "dtype": onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type).lower(),
                    "declared_shape": d, "dynamic_dims": [i for i, v in enumerate(d or []) if not isinstance(v, int) or v <= 0],
                    "run_shape": model["run_shapes"].get(vi.name)})
    entry["inputs"] = ins
    changed = zc.apply_run_shapes(mp, model["run_shapes"])
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(mp.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        feeds[i.name] = np.zeros(model["run_shapes"][i.name], dtype=DTYPES[i.type])
    res = sess.run(None, feeds)
    decl = {o.name: zc.dims_of(o) for o in onnx.load(path).graph.output}
    outs = []
    for o, r in zip(sess.get_outputs(), res):
        outs.append({"name": o.name, "dtype": str(r.dtype), "declared_shape": decl.get(o.name), "run_shape": list(r.shape)})
    entry["outputs"] = outs
    if changed:
        entry["run_needs_shape_override"] = True
    return entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    manifest = zc.load_manifest()
    diffs = 0
    for m in zc.select(manifest["models"], only=args.only):
        path = zc.model_path(m)
        if not os.path.isfile(path):
            print("%s: %s missing (run fetch_zoo.py first)" % (m["id"], path), file=sys.stderr)
            diffs += 1
            continue
        new = describe(m, path)
        arch = find_archive(os.path.join(zc.CACHE, "wheels"), m["source"])
        if arch:
            new_src = dict(m["source"], archive=os.path.basename(arch), archive_sha256=sha256_file(arch),
                           archive_size_bytes=os.path.getsize(arch))
        else:
            new_src = m["source"]
        for k, v in new.items():
            if m.get(k) != v:
                diffs += 1
                print("%s: %s %s" % (m["id"], "differs:" if args.check else "set", k))
                if not args.check:
                    m[k] = v
        if new_src != m["source"]:
            diffs += 1
            print("%s: %s source.archive*" % (m["id"], "differs:" if args.check else "set"))
            if not args.check:
                m["source"] = new_src
    # image sets: counts and digests from build/zoo/images/index.json, archive hashes of their sources
    index_path = os.path.join(zc.CACHE, "images", "index.json")
    if not args.only and os.path.isfile(index_path):
        import json
        with open(index_path) as f:
            index = json.load(f)
        for name, rec in manifest.get("image_sets", {}).items():
            if name in index:
                for k in ("count", "digest"):
                    if rec.get(k) != index[name][k]:
                        diffs += 1
                        print("image set %s: %s %s" % (name, "differs:" if args.check else "set", k))
                        rec[k] = index[name][k]
        for src in manifest.get("image_sources", []):
            if src["kind"] == "pypi":
                arch = find_archive(os.path.join(zc.CACHE, "wheels"), dict(src, archive_kind="wheel", archive=None))
            else:
                arch = os.path.join(zc.CACHE, "debs", "%s_%s_all.deb" % (src["package"], src["version"].split(":")[-1]))
                arch = arch if os.path.isfile(arch) else None
            if arch:
                want = {"archive": os.path.basename(arch), "archive_sha256": sha256_file(arch),
                        "archive_size_bytes": os.path.getsize(arch)}
                if any(src.get(k) != v for k, v in want.items()):
                    diffs += 1
                    print("image source %s: %s archive*" % (src["id"], "differs:" if args.check else "set"))
                    src.update(want)
    # keep a stable key order: hand-written first, computed after
    order = ["id", "task", "family", "description", "source", "sha256", "size_bytes", "opset_imports", "ir_version",
             "producer", "inputs", "outputs", "run_shapes", "run_needs_shape_override", "shape_override",
             "preprocessing", "image_set", "reference_image", "ci", "build"]
    manifest["models"] = [{k: m[k] for k in order if k in m} | {k: v for k, v in m.items() if k not in order}
                          for m in manifest["models"]]
    if not args.check:
        zc.save_manifest(manifest)
    return 1 if (args.check and diffs) else 0


if __name__ == "__main__":
    sys.exit(main())
