#!/usr/bin/env python3
"""Simulated INT8 of a zoo model in ONNX Runtime: per-tensor against per-channel activation ranges.

    build/zoo-venv/bin/python tools/models/zoo/fake_quant_sim.py --only ppocr_det_v5 [--set text]

Before writing kernels for per-channel activation scales, measure whether they would help. The model
runs in float with fake quantization: a QuantizeLinear/DequantizeLinear pair on the activation input
of every Conv (symmetric int8 rounding, range = the 99.99th percentile of |x| over the calibration images, per
tensor or per channel) and per-output-channel symmetric int8 weights. Calibration: the even-numbered
images of the set (by name, at most --calib); comparison: the odd-numbered ones (at most --compare).
Prints the pixel agreement of the thresholded map with FP32 (dense models) for three choices: per-tensor
ranges everywhere, per-channel ranges on the inputs of 1x1 convolutions, per-channel ranges on every
convolution input. A simulation: the INT8 engine octet builds also rounds Concat and Resize outputs,
folds affine nodes first and fuses activations; compare the three rows with each other, not with octet.
"""

import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zoo_common as zc  # noqa: E402

SAMPLES_PER_IMAGE = 4096  # |x| values kept per channel and image for the percentiles


def activation_ranges(model_path, conv_inputs, feeds, rng):
    """Per tensor and per channel 99.99th percentile of |x| (per channel capped at the channel's max)."""
    m = onnx.load(model_path)
    for name in conv_inputs:
        m.graph.output.append(helper.make_empty_tensor_value_info(name))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    kept = {a: [] for a in conv_inputs}
    maxima = {a: [] for a in conv_inputs}
    for feed in feeds:
        out = dict(zip(names, sess.run(None, feed)))
        for a in conv_inputs:
            v = np.abs(out[a][0]).reshape(out[a].shape[1], -1)
            maxima[a].append(v.max(axis=1))
            if v.shape[1] > SAMPLES_PER_IMAGE:
                v = v[:, rng.choice(v.shape[1], SAMPLES_PER_IMAGE, replace=False)]
            kept[a].append(v)
    per_tensor, per_channel = {}, {}
    for a in conv_inputs:
        v = np.concatenate(kept[a], axis=1)
        per_tensor[a] = max(float(np.percentile(v, 99.99)), 1e-6)
        per_channel[a] = np.maximum(np.minimum(np.percentile(v, 99.99, axis=1), np.max(maxima[a], axis=0)), 1e-6)
    return per_tensor, per_channel


def fake_quant_session(model_path, per_tensor, per_channel, channelwise):
    """The model with Q/DQ on every Conv activation input (per channel for the names in `channelwise`)
    and its Conv weights rounded to per-output-channel int8."""
    g = onnx.load(model_path)
    inits = {i.name: i for i in g.graph.initializer}
    nodes, extra, dq = [], [], {}
    for n in g.graph.node:
        if n.op_type == "Conv" and n.input[0] in per_tensor:
            a = n.input[0]
            if a not in dq:
                # Div, Round (half to even, as QuantizeLinear), Max/Min, Mul: any opset >= 11, where a
                # per-axis QuantizeLinear needs 13 (PaddlePaddle's exports are older).
                if a in channelwise:
                    s = (per_channel[a] / 127).astype(np.float32).reshape(1, -1, 1, 1)
                else:
                    s = np.array(per_tensor[a] / 127, np.float32)
                extra += [numpy_helper.from_array(s, a + "_fq_s"), numpy_helper.from_array(np.array(-127, np.float32), a + "_fq_lo"),
                          numpy_helper.from_array(np.array(127, np.float32), a + "_fq_hi")]
                # Each step reads the previous one's output and, but for Round, a constant.
                prev = a
                for k, (op, operand) in enumerate((("Div", "_fq_s"), ("Round", None), ("Max", "_fq_lo"),
                                                    ("Min", "_fq_hi"), ("Mul", "_fq_s"))):
                    out = "%s_fq%d" % (a, k)
                    nodes.append(helper.make_node(op, [prev] + ([a + operand] if operand else []), [out]))
                    prev = out
                dq[a] = prev
            n.input[0] = dq[a]
            w = numpy_helper.to_array(inits[n.input[1]])
            ws = (np.maximum(np.abs(w).reshape(w.shape[0], -1).max(axis=1), 1e-12) / 127).reshape(-1, 1, 1, 1)
            extra.append(numpy_helper.from_array((np.clip(np.round(w / ws), -127, 127) * ws).astype(np.float32),
                                                 n.input[1] + "_fq"))
            n.input[1] += "_fq"
        nodes.append(n)
    del g.graph.node[:]
    g.graph.node.extend(nodes)
    g.graph.initializer.extend(extra)
    return ort.InferenceSession(g.SerializeToString(), providers=["CPUExecutionProvider"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", required=True, help="a model id of models/zoo/manifest.json (single input, dense output)")
    ap.add_argument("--set", help="image set (default: the model's own)")
    ap.add_argument("--calib", type=int, default=12, help="calibration images, the even-numbered (default 12)")
    ap.add_argument("--compare", type=int, default=8, help="compared images, the odd-numbered (default 8)")
    ap.add_argument("--threshold", type=float, default=0.3, help="map threshold (default 0.3, PP-OCR's)")
    ap.add_argument("--cache", default=zc.CACHE)
    args = ap.parse_args()
    model = next(m for m in zc.load_manifest()["models"] if m["id"] == args.only)
    path = zc.model_path(model, args.cache)
    files = zc.set_files(os.path.join(args.cache, "images", args.set or model["image_set"]))
    calib = [zc.preprocess(f, model) for f in files[::2][:args.calib]]
    compare = [zc.preprocess(f, model) for f in files[1::2][:args.compare]]
    base = onnx.load(path)
    inits = {i.name: i for i in base.graph.initializer}
    convs = [n for n in base.graph.node if n.op_type == "Conv" and n.input[0] not in inits]
    conv_inputs = sorted({n.input[0] for n in convs})
    pointwise = {n.input[0] for n in convs if tuple(numpy_helper.to_array(inits[n.input[1]]).shape[2:]) == (1, 1)}
    per_tensor, per_channel = activation_ranges(path, conv_inputs, calib, np.random.default_rng(0))
    fp32 = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    reference = [fp32.run(None, f)[0] for f in compare]
    print("%s: %d calibration and %d compared images, %d convolution inputs (%d of 1x1 convolutions)"
          % (args.only, len(calib), len(compare), len(conv_inputs), len(pointwise)))
    for label, channelwise in (("per-tensor ranges", set()), ("per-channel on 1x1 inputs", pointwise),
                               ("per-channel on every input", set(conv_inputs))):
        sess = fake_quant_session(path, per_tensor, per_channel, channelwise)
        agree = [np.mean((sess.run(None, f)[0] > args.threshold) == (r > args.threshold))
                 for f, r in zip(compare, reference)]
        print("  %-28s pixel agreement %.2f%% (worst image %.2f%%)" % (label, 100 * np.mean(agree), 100 * min(agree)))


if __name__ == "__main__":
    main()
