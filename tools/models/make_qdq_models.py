#!/usr/bin/env python3
"""Explicitly quantized (QuantizeLinear/DequantizeLinear, "Q/DQ") test fixtures made by ONNX Runtime.

Run with the peers' interpreter (tools/setup-peers.sh: numpy, onnx 1.23.1, onnxruntime 1.30.0):

    build/peers-venv/bin/python tools/models/make_qdq_models.py            # writes tests/fixtures/qdq/
    build/peers-venv/bin/python tools/models/make_qdq_models.py --verify-only   # checks what is there

For each reference model models/<name>.onnx (resnet_fmnist, mobilenetv2_fmnist, inception_fmnist, mlp_fmnist)
it writes tests/fixtures/qdq/<name>_qdq_per_channel.onnx and <name>_qdq_per_tensor.onnx with

    onnxruntime.quantization.quantize_static(
        model_input, model_output, reader,
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
        per_channel=True | False, reduce_range=False,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})

and nothing else changed from ORT's defaults (op_types_to_quantize = every op ORT knows, no nodes excluded,
no SmoothQuant, no TensorQuantOverrides, QDQDisableWeightAdjustForInt32Bias = False, output Q/DQ kept).

Calibration data: the first 512 images of Debian's Fashion-MNIST training set
(/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz, read with gzip + numpy), preprocessed as
models/<name>.json says, in float32: x = pixel * scale; x = (x - mean) / std; NCHW [N,1,28,28]; fed to the
calibrator in 8 batches of 64 (MinMax keeps the min and max over all batches, so the batching does not matter).

What the options mean in ORT 1.30 (onnxruntime/quantization/quant_utils.py, base_quantizer.py, qdq_quantizer.py):
  * ActivationSymmetric / WeightSymmetric: with a signed type the range is symmetrised to [-amax, amax],
    amax = max(|min|, |max|), the integer range is the restricted [-127, 127] (ONNX_INT_TYPE_SYMMETRIC_RANGE),
    scale = amax / 127 and zero point = round((qmin + qmax) / 2) = 0 exactly. So every activation and weight
    zero point is an int8 0 (the TensorRT convention).
    WeightSymmetric would be True anyway for QInt8; it is spelled out to be independent of that default.
  * MinMax: amax of an activation is max(|min|, |max|) over the 512 images (octet calibrate --method max
    computes the same thing, see tests/peers/ort_agreement.py).
  * per_channel=True: Conv weights per output channel (axis 0), Gemm weights (transB=1) per output row (axis 0),
    their int32 biases likewise; BatchNormalization's scale stays per tensor. per_channel=False: one scale per
    weight tensor.
  * reduce_range=False: full 8-bit weights ([-127, 127]); 7-bit weights are a workaround for old x86 CPUs only.

quant_pre_process is NOT run first, because
  * it would need sympy (symbolic shape inference), which is not one of the pinned peers, and
  * with skip_symbolic_shape=True it leaves these four graphs op for op unchanged (checked with ORT 1.30:
    same op counts, same initializers; the exporter has already folded every Conv->BatchNorm pair), adding only
    a metadata key. quantize_static runs ONNX shape inference itself, which is all these graphs need. Not
    running it keeps node names and topology identical to models/<name>.onnx, so octet's FP32 import of the
    reference model and its Q/DQ import of the fixture can be compared layer by layer. ORT prints a warning
    suggesting pre-processing; it is expected.

What ORT 1.30 produced (verified by this script on every run and printed per fixture; tests/fixtures/qdq/README.md):
  * Activations: a QuantizeLinear -> DequantizeLinear pair (int8, zero point 0, one float32 scale) on the output
    of every Conv, Gemm, Relu, Clip, Add, Concat, MaxPool, AveragePool, GlobalAveragePool, Flatten and
    BatchNormalization, and on the graph input when its first consumer is a Conv or BatchNormalization (not in
    the MLP, whose Flatten comes first and gets the pair on its output). Relu and Clip are NOT removed (ORT
    removes them only for asymmetric activations), so Conv -> Q/DQ -> Relu -> Q/DQ. Relu, Clip, MaxPool,
    AveragePool and Flatten get the same scale on their output as on their input; Conv, Gemm, Add, Concat,
    GlobalAveragePool and BatchNormalization requantize to their own calibrated scale.
  * The graph output `logits` is DQ(Q(last Gemm)): ORT quantizes the last Gemm's output as well, so every
    logit is a multiple of `logits_scale` (the "logits step" in the table).
  * Weights: int8 initializers in [-127, 127] with a DequantizeLinear (no QuantizeLinear), scale = max|W| / 127
    (per output channel, axis=0, for Conv and Gemm weights with per_channel=True). No weight scale was enlarged
    for the int32 bias (checked against the FP32 weights).
  * Bias: every Conv and Gemm bias is an int32 initializer with an int32 zero point 0 and a DequantizeLinear
    whose scale is input_scale * weight_scale (per channel, axis=0, when the weight is) - ORT's default. With
    per-tensor weights that scale is stored as a 1-D [1] tensor beside a scalar zero point, and the DQ keeps
    axis=0 over a bias of C > 1 elements: per tensor (ORT and ONNX broadcast a 1-element scale).
  * BatchNormalization (resnet only: on the network input and after the last residual Add): input and output
    Q/DQ; the scale (gamma) as an int8 weight with a DQ, per tensor even with per_channel=True; B (beta) as
    int32 with a DQ of scale s_x * s_gamma ([1]); mean and var stay float32.
  * Clip (mobilenetv2): min/max stay the float Constant nodes of the export (0 and 6).
  * Metadata: octet.preprocessing kept, onnx.infer = onnxruntime.quant added; producer onnx.quantize 0.1.0;
    opset 17, IR version 8, dynamic batch, input `input`, output `logits` unchanged; ONNX shape inference's
    value_info kept.

Verification per fixture (exit 1 if any check fails): onnx.checker (full_check); graph input/output names and
octet.preprocessing as in the reference model; every QuantizeLinear has an int8 zero point 0, every
DequantizeLinear has an int8 (activation, weight) or int32 (bias) input with an explicit zero point 0 of the
same type; int8 weights within [-127, 127]; the count of Q and DQ nodes; which input positions of which ops
are fed by a DQ; which ops' outputs are quantized; whether each Conv/Gemm bias is int32 + DQ with scale
s_x * s_w; the axis of every per-axis DQ; the weight scales against max|W| / 127 and int8 weights against
round(W / s_w); and ONNX Runtime's (CPUExecutionProvider) top-1 accuracy on the 10,000 t10k images of the FP32
model and of the Q/DQ model, run two ways: with ORT's graph optimisations (the QDQ selectors fuse what they
can into QLinearConv / QGemm / QLinearAdd / QLinearConcat / QLinearGlobalAveragePool; the rest runs in float
between its DQ and Q) and session.x64quantprecision = 1 (see ort_logits), and with every optimisation off
(each node as written, in float: "fake-quant"). The spread between those two executions of the same graph
- top-1 agreement and |logit difference| in logits steps - is the yardstick for octet's agreement with ORT
(tests/peers/qdq_ort_agreement.py). The last lines print the README's tables (markdown).

Deterministic: no random numbers; ORT's MinMax calibration and quantisation are deterministic and
onnx.save serialises the same proto to the same bytes, so a re-run gives byte-identical files (the SHA-256 of
each fixture is printed; compare two runs).
"""
import argparse
import collections
import gzip
import hashlib
import json
import logging
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = ["resnet_fmnist", "mobilenetv2_fmnist", "inception_fmnist", "mlp_fmnist"]
DATA = "/usr/share/datasets/fashion-mnist"
TRAIN_IMAGES = os.path.join(DATA, "train-images-idx3-ubyte.gz")
TEST_IMAGES = os.path.join(DATA, "t10k-images-idx3-ubyte.gz")
TEST_LABELS = os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")
CALIBRATION_IMAGES = 512
CALIBRATION_BATCH = 64
EVAL_BATCH = 500
VARIANTS = [("per_channel", True), ("per_tensor", False)]
EXTRA_OPTIONS = {"ActivationSymmetric": True, "WeightSymmetric": True}
QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")


# ----------------------------------------------------------------------------------------------- data
def read_idx(path, expected_magic, limit=0):
    """An IDX file (gzip) as a numpy array: 2051 = uint8 images [N,H,W], 2049 = uint8 labels [N]."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: IDX magic {magic}, expected {expected_magic}")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return array[:limit] if limit else array


def model_preprocessing(name):
    with open(os.path.join(ROOT, "models", name + ".json")) as f:
        return json.load(f)["preprocessing"]


def preprocess(pixels_nhw, pre):
    """x = pixel * scale; x = (x - mean) / std, float32 throughout, NCHW [N,1,H,W] (gray)."""
    if pre.get("layout", "NCHW") != "NCHW" or pre.get("channels", 1) != 1:
        raise ValueError(f"unexpected preprocessing {pre}")
    x = pixels_nhw[:, None, :, :].astype(np.float32) * np.float32(pre["scale"])
    return ((x - np.float32(pre["mean"][0])) / np.float32(pre["std"][0])).astype(np.float32)


class Batches(CalibrationDataReader):
    def __init__(self, input_name, samples, batch):
        self.input_name = input_name
        self.samples = samples
        self.batch = batch
        self.start, self.end = 0, len(samples)
        self.position = 0

    def __len__(self):
        return len(self.samples)

    def set_range(self, start_index, end_index):
        self.start, self.end, self.position = start_index, end_index, start_index

    def get_next(self):
        if self.position >= self.end:
            return None
        chunk = self.samples[self.position:min(self.position + self.batch, self.end)]
        self.position += self.batch
        return {self.input_name: chunk}


# ----------------------------------------------------------------------------------------- quantizing
class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def quantize(name, per_channel, out_path, samples):
    source = os.path.join(ROOT, "models", name + ".onnx")
    input_name = onnx.load(source, load_external_data=False).graph.input[0].name
    root = logging.getLogger()
    handler, level = Collect(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        quantize_static(source, out_path, Batches(input_name, samples, CALIBRATION_BATCH),
                        quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8,
                        per_channel=per_channel,
                        reduce_range=False,
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options=dict(EXTRA_OPTIONS))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    # ORT logs (INFO) when it enlarges a weight scale so that the int32 bias scale is valid.
    return [m for m in handler.messages if "ncreas" in m and "scale" in m]


# ---------------------------------------------------------------------------------------- verification
def attribute(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def verify(name, path):
    """Checks one fixture's structure. Returns (summary dict, list of problems)."""
    problems = []
    try:
        onnx.checker.check_model(path, full_check=True)
        checker = "pass"
    except Exception as e:  # noqa: BLE001 - report any checker failure
        checker = "FAIL"
        problems.append(f"onnx.checker: {e}")
    model = onnx.load(path)
    reference = onnx.load(os.path.join(ROOT, "models", name + ".onnx"))
    graph = model.graph
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    ref_inits = {t.name: onnx.numpy_helper.to_array(t) for t in reference.graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers = collections.defaultdict(list)
    for n in graph.node:
        for i, t in enumerate(n.input):
            consumers[t].append((n, i))

    if [i.name for i in graph.input] != [i.name for i in reference.graph.input] or \
            [o.name for o in graph.output] != [o.name for o in reference.graph.output]:
        problems.append("graph inputs/outputs differ from the reference model")
    meta = {p.key: p.value for p in model.metadata_props}
    ref_meta = {p.key: p.value for p in reference.metadata_props}
    if meta.get("octet.preprocessing") != ref_meta.get("octet.preprocessing"):
        problems.append("metadata octet.preprocessing lost or changed")

    def dtype_of(tensor):
        """numpy dtype of a Q/DQ data tensor: an initializer, or the output of a QuantizeLinear."""
        if tensor in inits:
            return inits[tensor].dtype
        node = producer.get(tensor)
        if node is not None and node.op_type == "QuantizeLinear":
            return inits[node.input[2]].dtype if len(node.input) > 2 and node.input[2] in inits else np.dtype(np.uint8)
        return None

    q_nodes = [n for n in graph.node if n.op_type == "QuantizeLinear"]
    dq_nodes = [n for n in graph.node if n.op_type == "DequantizeLinear"]
    zero_points = collections.Counter()
    zero_points_ok = True
    shape_mismatch = one_element_axis = 0
    for n in q_nodes + dq_nodes:
        if len(n.input) < 3 or not n.input[2]:
            zero_points_ok = False
            problems.append(f"{n.name}: no zero point (an absent zero point means uint8 in opset 17)")
            continue
        if n.input[1] not in inits or n.input[2] not in inits:
            problems.append(f"{n.name}: scale or zero point is not an initializer")
            continue
        scale, zp = inits[n.input[1]], inits[n.input[2]]
        zero_points[str(zp.dtype)] += 1
        if scale.dtype != np.float32 or not np.all(scale > 0) or not np.all(np.isfinite(scale)):
            problems.append(f"{n.name}: scale {scale.dtype} not positive finite float32")
        if np.any(zp != 0):
            zero_points_ok = False
            problems.append(f"{n.name}: zero point {zp} is not 0")
        if scale.size != zp.size:
            problems.append(f"{n.name}: {scale.size} scales but {zp.size} zero points")
        if scale.shape != zp.shape:
            shape_mismatch += 1  # ORT writes some per-tensor scales as [1] beside a scalar zero point
        if scale.size == 1 and scale.ndim == 1 and n.op_type == "DequantizeLinear" and n.input[0] in inits \
                and inits[n.input[0]].ndim >= 1 and inits[n.input[0]].shape[attribute(n, "axis", 1) % inits[n.input[0]].ndim] != 1:
            one_element_axis += 1  # a 1-D [1] scale with an axis attribute: per tensor (ORT broadcasts it)
        if n.op_type == "QuantizeLinear":
            if zp.dtype != np.int8:
                problems.append(f"{n.name}: QuantizeLinear to {zp.dtype}, not int8")
            if scale.size != 1:
                problems.append(f"{n.name}: per-axis QuantizeLinear (activations should be per tensor)")
        else:
            x_type = dtype_of(n.input[0])
            if x_type != zp.dtype:
                problems.append(f"{n.name}: input {x_type} but zero point {zp.dtype}")
            if zp.dtype == np.int8 and n.input[0] in inits and np.any(inits[n.input[0]] == -128):
                problems.append(f"{n.name}: int8 weight uses -128 (not symmetric [-127, 127])")
            if zp.dtype not in (np.int8, np.int32):
                problems.append(f"{n.name}: DequantizeLinear from {zp.dtype}")
            if zp.dtype == np.int32 and n.input[0] not in inits:
                problems.append(f"{n.name}: int32 DequantizeLinear of a non-constant")

    # Which inputs of which ops come from a DequantizeLinear; which ops' outputs are quantized.
    dq_inputs = collections.Counter()
    quantized_outputs = collections.Counter()
    for n in graph.node:
        if n.op_type in QDQ_OPS or n.op_type == "Constant":
            continue
        positions = tuple(i for i, t in enumerate(n.input) if t and producer.get(t) is not None
                          and producer[t].op_type == "DequantizeLinear")
        dq_inputs[(n.op_type, positions)] += 1
        if any(c.op_type == "QuantizeLinear" for o in n.output for c, _ in consumers[o]):
            quantized_outputs[n.op_type] += 1
    graph_input_quantized = any(c.op_type == "QuantizeLinear" for i in graph.input for c, _ in consumers[i.name])
    out_producer = producer.get(graph.output[0].name)
    output_step = None
    if out_producer is not None and out_producer.op_type == "DequantizeLinear":
        output_step = float(inits[out_producer.input[1]])

    def dq_of(tensor):
        node = producer.get(tensor)
        return node if node is not None and node.op_type == "DequantizeLinear" else None

    # Bias: int32 + DQ with scale s_x * s_w; weight scales against max|W| / 127.
    biases_total = biases_int32 = 0
    bias_scale_error = 0.0
    weight_scale_ratio = []
    adjusted = []
    for n in graph.node:
        if n.op_type not in ("Conv", "Gemm", "BatchNormalization"):
            continue
        w_dq = dq_of(n.input[1])
        if w_dq is None:
            problems.append(f"{n.name}: weight not fed by a DequantizeLinear")
            continue
        s_w = inits[w_dq.input[1]].astype(np.float32)
        original = w_dq.input[0][:-len("_quantized")] if w_dq.input[0].endswith("_quantized") else None
        if original in ref_inits:
            w = ref_inits[original].astype(np.float64)
            if s_w.size > 1:
                axis = attribute(w_dq, "axis", 1)
                amax = np.max(np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)), axis=1)
            else:
                amax = np.max(np.abs(w))
            expected = (amax / 127.0).astype(np.float32)
            ratio = s_w.astype(np.float64) / np.maximum(expected.astype(np.float64), 1e-30)
            weight_scale_ratio.append(float(np.max(np.abs(ratio - 1))))
            if np.max(np.abs(ratio - 1)) > 1e-6:
                adjusted.append(n.name)
            w_q = inits[w_dq.input[0]].astype(np.float64)
            shape = [-1 if d == (attribute(w_dq, "axis", 1) % w.ndim) else 1 for d in range(w.ndim)] \
                if s_w.size > 1 else [1] * w.ndim
            # ORT divides in float32 and rounds half to even, so a tie may land either side in float64.
            if np.max(np.abs(w_q * s_w.astype(np.float64).reshape(shape) - w)) > 0.50001 * np.max(s_w):
                problems.append(f"{n.name}: int8 weight is not round(W / s_w)")
        else:
            problems.append(f"{n.name}: cannot find the FP32 weight for {w_dq.input[0]}")
        if n.op_type == "BatchNormalization" or len(n.input) < 3 or not n.input[2]:
            continue
        biases_total += 1
        b_dq = dq_of(n.input[2])
        if b_dq is None or b_dq.input[0] not in inits or inits[b_dq.input[0]].dtype != np.int32:
            problems.append(f"{n.name}: bias is not int32 + DequantizeLinear")
            continue
        biases_int32 += 1
        x_dq = dq_of(n.input[0])
        if x_dq is None:
            problems.append(f"{n.name}: input not fed by a DequantizeLinear")
            continue
        s_x = inits[x_dq.input[1]].astype(np.float32)
        s_b = inits[b_dq.input[1]].astype(np.float64)
        expected = (s_x * s_w).astype(np.float64).reshape(-1)
        error = float(np.max(np.abs(s_b.reshape(-1) - expected) / expected))
        bias_scale_error = max(bias_scale_error, error)
        if error > 1e-6:
            problems.append(f"{n.name}: bias scale differs from s_x * s_w by {error:.2e} relative")

    # The axis of each per-axis DequantizeLinear, by consumer and input position.
    per_axis = collections.Counter()
    for n in dq_nodes:
        if n.input[1] in inits and inits[n.input[1]].size > 1:
            x = inits.get(n.input[0])
            rank = x.ndim if x is not None else 0
            axis = attribute(n, "axis", 1)
            axis = axis + rank if axis < 0 else axis
            if x is not None and x.shape[axis] != inits[n.input[1]].size:
                problems.append(f"{n.name}: {inits[n.input[1]].size} scales for axis {axis} of {x.shape}")
            for c, i in consumers[n.output[0]]:
                role = {0: "x", 1: "w", 2: "b"}.get(i, str(i))
                per_axis[f"{c.op_type}.{role} axis {axis} (rank {rank})"] += 1

    summary = {
        "checker": checker,
        "Q": len(q_nodes), "DQ": len(dq_nodes),
        "zero_points": dict(zero_points), "zero_points_ok": zero_points_ok,
        "scale_zp_shape_mismatch": shape_mismatch, "one_element_axis": one_element_axis,
        "dq_inputs": dq_inputs, "quantized_outputs": quantized_outputs,
        "graph_input_quantized": graph_input_quantized,
        "output_step": output_step,
        "biases": (biases_int32, biases_total), "bias_scale_error": bias_scale_error,
        "per_axis": per_axis,
        "weight_scale_max_rel_dev": max(weight_scale_ratio) if weight_scale_ratio else 0.0,
        "adjusted_weights": adjusted,
        "ops": collections.Counter(n.op_type for n in graph.node),
    }
    return summary, problems


def ort_logits(path, images, threads, mode):
    """ONNX Runtime (CPUExecutionProvider) outputs for all images, in batches of EVAL_BATCH.

    mode "fp32": the FP32 reference model, default session.
    mode "int8": a Q/DQ model with ORT's default graph optimisations, which fuse DQ -> op -> Q into integer
        kernels (QLinearConv, QGemm, QLinearAdd, ...), and session.x64quantprecision = 1: on x86 CPUs without
        VNNI ORT's default U8S8 kernels use VPMADDUBSW, whose int16 pair sums saturate (ORT documents this);
        the option makes ORT use exact U8U8 kernels there and changes nothing on VNNI CPUs.
    mode "fakequant": a Q/DQ model with every graph optimisation off: each QuantizeLinear, DequantizeLinear and
        float op runs as written (float convolutions of dequantized values) - the ONNX semantics in float.
    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    if mode == "int8":
        options.add_session_config_entry("session.x64quantprecision", "1")
    elif mode == "fakequant":
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: images[i:i + EVAL_BATCH]})[0]
                           for i in range(0, len(images), EVAL_BATCH)])


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "qdq"))
    ap.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    ap.add_argument("--verify-only", action="store_true", help="check the fixtures in --out, write nothing")
    ap.add_argument("--no-eval", action="store_true", help="skip the accuracy runs (structure checks and hashes only)")
    ap.add_argument("--threads", type=int, default=0, help="ORT intra-op threads for the evaluation (0 = all)")
    args = ap.parse_args()

    print(f"onnxruntime {onnxruntime.__version__}, onnx {onnx.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}")
    os.makedirs(args.out, exist_ok=True)
    train = read_idx(TRAIN_IMAGES, 2051, CALIBRATION_IMAGES)
    test = read_idx(TEST_IMAGES, 2051)
    labels = read_idx(TEST_LABELS, 2049).astype(np.int64)
    failures = 0
    rows = []
    for name in args.models:
        pre = model_preprocessing(name)
        calibration = preprocess(train, pre)
        images = preprocess(test, pre)
        fp32_path = os.path.join(ROOT, "models", name + ".onnx")
        fp32_top1 = None if args.no_eval else np.argmax(ort_logits(fp32_path, images, args.threads, "fp32"), axis=1)
        for variant, per_channel in VARIANTS:
            path = os.path.join(args.out, f"{name}_qdq_{variant}.onnx")
            rel = os.path.relpath(path, ROOT)
            adjustments = []
            if not args.verify_only:
                start = time.perf_counter()
                adjustments = quantize(name, per_channel, path, calibration)
                print(f"\n{rel}: quantized in {time.perf_counter() - start:.1f} s")
            else:
                print(f"\n{rel}:")
            summary, problems = verify(name, path)
            if adjustments:
                problems += [f"ORT adjusted a weight scale: {m}" for m in adjustments]
            size = os.path.getsize(path)
            digest = sha256(path)
            print(f"  {size} bytes, sha256 {digest}")
            print(f"  onnx.checker: {summary['checker']}; QuantizeLinear {summary['Q']}, DequantizeLinear "
                  f"{summary['DQ']}; zero points by type {summary['zero_points']}, all present and 0: "
                  f"{'yes' if summary['zero_points_ok'] else 'NO'}")
            print(f"  scale [1] beside a scalar zero point: {summary['scale_zp_shape_mismatch']} DQs; "
                  f"1-element scale with an axis over a dimension > 1 (per tensor): {summary['one_element_axis']}")
            print(f"  ops: {dict(sorted(summary['ops'].items()))}")
            print("  inputs fed by a DequantizeLinear (op [positions] x nodes): " + ", ".join(
                f"{op}[{','.join(map(str, pos)) or '-'}] x{c}" for (op, pos), c in sorted(summary["dq_inputs"].items())))
            print("  outputs quantized (Q/DQ pair after): " + ", ".join(
                f"{op} x{c}" for op, c in sorted(summary["quantized_outputs"].items()))
                  + f"; graph input quantized: {summary['graph_input_quantized']}"
                  + f"; graph output is DQ(Q(.)): {summary['output_step'] is not None}"
                  + (f" (step {summary['output_step']:.6g})" if summary["output_step"] else ""))
            b_int, b_total = summary["biases"]
            print(f"  Conv/Gemm biases int32 + DQ: {b_int}/{b_total}, scale = s_x * s_w within "
                  f"{summary['bias_scale_error']:.1e} relative")
            print("  per-axis DQ: " + (", ".join(f"{k} x{c}" for k, c in sorted(summary["per_axis"].items()))
                                       or "none"))
            print(f"  weight scales = max|W|/127 of the FP32 weights within "
                  f"{summary['weight_scale_max_rel_dev']:.1e} relative; adjusted for int32 bias: "
                  f"{summary['adjusted_weights'] or 'none'}")
            evaluation = None
            if not args.no_eval:
                int8 = ort_logits(path, images, args.threads, "int8")
                fake = ort_logits(path, images, args.threads, "fakequant")
                q_top1, f_top1 = np.argmax(int8, axis=1), np.argmax(fake, axis=1)
                steps = np.abs(int8.astype(np.float64) - fake) / (summary["output_step"] or 1.0)
                evaluation = {
                    "fp32": int(np.sum(fp32_top1 == labels)), "int8": int(np.sum(q_top1 == labels)),
                    "fake": int(np.sum(f_top1 == labels)), "agree_fp32": int(np.sum(q_top1 == fp32_top1)),
                    "agree_fake": int(np.sum(q_top1 == f_top1)),
                    "max_steps": float(steps.max()), "p999_steps": float(np.percentile(steps, 99.9)),
                    "differing": float(np.mean(steps > 0.5)),
                }
                e = evaluation
                print(f"  ORT top-1 on t10k: FP32 {e['fp32'] / 100:.2f}% ({e['fp32']}), Q/DQ int8 kernels "
                      f"{e['int8'] / 100:.2f}% ({e['int8']}), top-1 agreement with FP32 {e['agree_fp32'] / 100:.2f}%")
                print(f"  ORT Q/DQ without graph optimisation (float fake-quant): {e['fake'] / 100:.2f}%, top-1 "
                      f"agreement with the int8 kernels {e['agree_fake'] / 100:.2f}%, |logit difference| max "
                      f"{e['max_steps']:.2f} steps, 99.9th percentile {e['p999_steps']:.2f} steps, "
                      f"{100 * e['differing']:.3f}% of logits differ")
            for p in problems:
                print(f"  PROBLEM: {p}")
            failures += 1 if problems else 0
            per_axis = sorted({k.split(" (")[0] for k in summary["per_axis"]})
            rows.append((os.path.basename(path), size, summary, per_axis, evaluation,
                         "pass" if not problems else "FAIL", digest))

    print("\n| fixture | bytes | checker | Q | DQ | zero points | Conv/Gemm biases int32+DQ | per-axis DQ | "
          "logits step | checks |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fixture, size, s, per_axis, _, status, _ in rows:
        zp = ", ".join(f"{k} x{c}" for k, c in sorted(s["zero_points"].items()))
        zp += " (all 0)" if s["zero_points_ok"] else " (NOT all 0)"
        step = f"{s['output_step']:.4g}" if s["output_step"] else "-"
        b_int, b_total = s["biases"]
        print(f"| `{fixture}` | {size:,} | {s['checker']} | {s['Q']} | {s['DQ']} | {zp} | {b_int}/{b_total} | "
              f"{'; '.join(per_axis) or 'none'} | {step} | {status} |")
    if not args.no_eval:
        print("\n| fixture | FP32 top-1 | Q/DQ top-1 (ORT int8) | agreement with FP32 | Q/DQ top-1 (ORT fake-quant) "
              "| int8 vs fake-quant: top-1 agreement | max \\|Δlogit\\| | 99.9th pct | logits differing |")
        print("|---|---|---|---|---|---|---|---|---|")
        for fixture, _, _, _, e, _, _ in rows:
            print(f"| `{fixture}` | {e['fp32'] / 100:.2f}% | {e['int8'] / 100:.2f}% | {e['agree_fp32'] / 100:.2f}% | "
                  f"{e['fake'] / 100:.2f}% | {e['agree_fake'] / 100:.2f}% | {e['max_steps']:.0f} steps | "
                  f"{e['p999_steps']:.0f} steps | {100 * e['differing']:.3f}% |")
    print("\nsha256:")
    for fixture, *_, digest in rows:
        print(f"  {digest}  {fixture}")
    print(f"\n{len(rows)} fixtures, {failures} with problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
