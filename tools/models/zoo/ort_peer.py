#!/usr/bin/env python3
"""The peer for check_zoo.py --image-set: ONNX Runtime's own post-training quantization on the same images.

    build/zoo-venv/bin/python tools/models/zoo/ort_peer.py --only efficientnet_lite0 --image-set imagenet \
        --calib-images 64 --images 0 --methods minmax,entropy --json build/zoo/peer_imagenet.json

For one zoo classifier: the same disjoint calibration and comparison images as check_zoo.py --image-set
(zoo_common.split_image_set: --calib-images files spread evenly over the set's sorted names, the others compared),
each preprocessed exactly as the zoo does (zoo_common.preprocess, the manifest's recipe), then per --methods

    onnxruntime.quantization.quantize_static(model, qdq_model, reader,
        quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=False,
        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax | Entropy | Percentile,
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})

(tools/models/make_qdq_models.py says what the options mean). Without help ORT quantizes each unfused
BatchNormalization (efficientnet_lite*) as an op of its own, with an extra int8 tensor between Conv and BN, where
octet's builder folds BN into the Conv first. --fold-bn gives ORT the folded graph: every Conv -> BatchNormalization
pair (the Conv's output read by the BN alone) becomes one Conv with W' = W * g / sqrt(v + eps) per output channel and
b' = (b - m) * g / sqrt(v + eps) + beta, in float64 then float32; the FP32 reference stays the model as shipped.
(ORT's own quant_pre_process, --pre-process, was tried: in ORT 1.30 with skip_symbolic_shape it left all 49 BN
nodes of efficientnet_lite0 in place.) The QDQ model and
the FP32 model both run in ONNX Runtime (CPU, default graph optimizations: the QDQ pairs become ORT's int8 kernels)
on the comparison images. Printed and written to --json: top-1 agreement of ORT INT8 with ORT FP32, and, on a
labelled set, both top-1 accuracies against the true classes; with --octet-json (check_zoo.py --json of the same
images) also how often ORT's FP32 top-1 equals octet's FP32 top-1 and how the two INT8 engines' flips overlap.
Work files (the preprocessed images, the QDQ models) in --work (default build/zoo/peer/<id>/).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zoo_common as zc  # noqa: E402
import zoo_metrics as zm  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEFAULT_CACHE = os.path.join(REPO, "build", "zoo")


def preprocessed(files, model, path):
    """[N, ...] float32 inputs of files, cached in path (.npy) together with the list of names."""
    names = [os.path.basename(f) for f in files]
    if os.path.isfile(path) and os.path.isfile(path + ".names.json"):
        with open(path + ".names.json") as f:
            if json.load(f) == names:
                return np.load(path)
    (in_name, _), = model["run_shapes"].items()
    x = np.concatenate([zc.preprocess(f, model)[in_name] for f in files]).astype(np.float32)
    np.save(path, x)
    with open(path + ".names.json", "w") as f:
        json.dump(names, f)
    return x


def fold_bn(src, dst):
    """Conv -> BatchNormalization (the Conv output read by that BN alone) folded into one Conv; writes dst and
    returns the number of pairs folded."""
    import onnx
    from onnx import numpy_helper
    mp = onnx.load(src)
    g = mp.graph
    inits = {i.name: i for i in g.initializer}
    readers = {}
    for n in g.node:
        for i in n.input:
            readers[i] = readers.get(i, 0) + 1
    producer = {o: n for n in g.node for o in n.output}
    graph_outs = {o.name for o in g.output}
    keep, folded = [], 0
    for n in g.node:
        conv = producer.get(n.input[0]) if n.op_type == "BatchNormalization" else None
        if conv is None or conv.op_type != "Conv" or readers.get(conv.output[0]) != 1 \
                or conv.output[0] in graph_outs or conv.input[1] not in inits \
                or not all(i in inits for i in n.input[1:5]):
            keep.append(n)
            continue
        eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
        gam, beta, mean, var = (numpy_helper.to_array(inits[i]).astype(np.float64) for i in n.input[1:5])
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        has_b = len(conv.input) > 2 and conv.input[2]
        b = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if has_b else np.zeros(w.shape[0])
        k = gam / np.sqrt(var + eps)
        wn, bname = n.output[0] + "_folded_W", n.output[0] + "_folded_B"
        g.initializer.extend([
            numpy_helper.from_array((w * k.reshape([-1] + [1] * (w.ndim - 1))).astype(np.float32), wn),
            numpy_helper.from_array(((b - mean) * k + beta).astype(np.float32), bname)])
        x = conv.input[0]
        del conv.input[:]
        conv.input.extend([x, wn, bname])
        conv.output[0] = n.output[0]
        folded += 1
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input}
    live = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(live)
    onnx.checker.check_model(mp)
    onnx.save(mp, dst)
    return folded


def run_ort(model_path, in_name, x, batch, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    outs = [s.run(None, {in_name: x[i:i + batch]})[0] for i in range(0, len(x), batch)]
    return np.concatenate(outs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", required=True, help="one model id (a classifier with one input)")
    ap.add_argument("--image-set", required=True)
    ap.add_argument("--calib-images", type=int, default=64)
    ap.add_argument("--images", type=int, default=0, help="comparison images (0: all the calibration leaves)")
    ap.add_argument("--methods", default="minmax,entropy", help="minmax, entropy, percentile (comma-separated)")
    ap.add_argument("--calib-batch", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("--work")
    ap.add_argument("--fold-bn", action="store_true",
                    help="fold Conv -> BatchNormalization pairs before quantize_static (as octet's builder does)")
    ap.add_argument("--pre-process", action="store_true",
                    help="run onnxruntime.quantization.quant_pre_process (skip_symbolic_shape) before quantize_static")
    ap.add_argument("--octet-json", help="check_zoo.py --json of the same model and images (per-image top-1)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    import onnxruntime
    manifest = zc.load_manifest()
    model = [m for m in manifest["models"] if m["id"] == args.only]
    if not model:
        raise SystemExit("ort_peer: unknown model %s" % args.only)
    model = model[0]
    (in_name, _), = model["run_shapes"].items()
    set_dir = os.path.join(args.cache, "images", args.image_set)
    calib, compare, stride = zc.split_image_set(set_dir, args.calib_images, args.images)
    labels = zc.image_labels(manifest["image_sets"].get(args.image_set, {}).get("labels"), set_dir, compare)
    work = args.work or os.path.join(args.cache, "peer", model["id"])
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    xc = preprocessed(calib, model, os.path.join(work, "calib_%s.npy" % args.image_set))
    xs = preprocessed(compare, model, os.path.join(work, "compare_%s.npy" % args.image_set))
    print("ort_peer: %s, %d calibration images (every %s-th of %s), %d comparison images, preprocessed in %.0f s"
          % (model["id"], len(xc), stride, args.image_set, len(xs), time.time() - t0), flush=True)

    src = zc.model_path(model, args.cache)
    fp32_src = src
    if args.fold_bn:
        folded = os.path.join(work, "%s_bnfolded.onnx" % model["id"])
        print("fold_bn: %d Conv -> BatchNormalization pairs folded" % fold_bn(src, folded), flush=True)
        src = folded
    if args.pre_process:
        from onnxruntime.quantization.shape_inference import quant_pre_process
        pre = os.path.join(work, "%s_pre.onnx" % model["id"])
        quant_pre_process(src, pre, skip_symbolic_shape=True)
        import onnx
        ops = lambda p: sorted({n.op_type for n in onnx.load(p).graph.node})  # noqa: E731
        print("quant_pre_process: ops %s -> %s" % (",".join(ops(src)), ",".join(ops(pre))), flush=True)
        src = pre
    t0 = time.time()
    f = run_ort(fp32_src, in_name, xs, args.batch, args.threads)
    fp32_top1 = f.reshape(len(f), -1).argmax(axis=1)
    result = {"model": model["id"], "image_set": args.image_set, "calib_images": len(xc), "calib_stride": stride,
              "compare_images": len(xs), "onnxruntime": onnxruntime.__version__, "methods": {},
              "pre_process": bool(args.pre_process), "fold_bn": bool(args.fold_bn),
              "files": [os.path.basename(p) for p in compare], "labels": labels,
              "fp32_top1": [int(v) for v in fp32_top1]}
    line = "ORT FP32 on %d images (%.0f s)" % (len(xs), time.time() - t0)
    if labels is not None:
        acc = 100.0 * float((fp32_top1 == np.asarray(labels)).mean())
        result["fp32_accuracy"] = acc
        line += ": top-1 vs labels %.1f%%" % acc
    octet = None
    if args.octet_json:
        with open(args.octet_json) as fh:
            rows = json.load(fh)
        octet = rows[0]["int8"]["detail"]["per_image"]
        if octet["files"] != result["files"]:
            raise SystemExit("ort_peer: --octet-json compares other images")
        same = int((np.asarray(octet["fp32_top1"]) == fp32_top1).sum())
        result["octet_fp32_equals_ort_fp32"] = same
        line += "; octet FP32 top-1 = ORT FP32 top-1 on %d/%d" % (same, len(xs))
    print(line, flush=True)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.i = 0

        def get_next(self):
            if self.i >= len(xc):
                return None
            b = xc[self.i:self.i + args.calib_batch]
            self.i += args.calib_batch
            return {in_name: b}

        def rewind(self):
            self.i = 0

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    for name in [m.strip() for m in args.methods.split(",") if m.strip()]:
        qdq = os.path.join(work, "%s_qdq_%s%s%s.onnx" % (model["id"], name, "_fold" if args.fold_bn else "",
                                                           "_pre" if args.pre_process else ""))
        t0 = time.time()
        quantize_static(src, qdq, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=False,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=methods[name],
                        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
        tq = time.time() - t0
        t0 = time.time()
        q = run_ort(qdq, in_name, xs, args.batch, args.threads)
        agree = zm.top1_agreement(f, q)
        r = {"agreement": agree["value"], "text": agree["text"], "detail": agree["detail"],
             "quantize_seconds": tq, "run_seconds": time.time() - t0,
             "int8_top1": [int(v) for v in q.reshape(len(q), -1).argmax(axis=1)]}
        text = "ORT %s: %s" % (name, agree["text"])
        if labels is not None:
            acc = zm.top1_accuracy(f, q, labels)
            r["accuracy"] = acc["detail"]
            text += "; " + acc["text"]
        if octet is not None:
            o_flip = np.asarray(octet["int8_top1"]) != np.asarray(octet["fp32_top1"])
            e_flip = np.asarray(r["int8_top1"]) != fp32_top1
            r["flips_both"] = int((o_flip & e_flip).sum())
            text += "; flipped by both octet INT8 and ORT INT8: %d" % r["flips_both"]
        result["methods"][name] = r
        print(text + " (quantize %.0f s, run %.0f s)" % (tq, r["run_seconds"]), flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
