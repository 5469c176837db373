#!/usr/bin/env python3
"""Export a torchvision architecture with random weights (seed 0) to ONNX, for benchmarks.

    python3 tools/models/export_torchvision.py --arch mobilenet_v2 /tmp/mobilenet_v2.onnx [--verify]

Architectures: resnet50, mobilenet_v2, efficientnet_b0 (ARCHS below: each with the op types its export may
hold; anything else fails loudly). TorchScript exporter (dynamo=False), opset 17, constant folding
(BatchNorm folded into the convolutions), input "input" [N,3,224,224], output "logits" [N,1000], dynamic
batch axis. The weights are torchvision's random initialisation, so the file is only good for timing and
for comparing engines with each other: it is never committed. --verify compares ONNX Runtime (CPU) with
PyTorch on a random batch. The PyTorch peer of the same model is tools/bench/pytorch_models.py.
"""

import argparse
import collections
import json
import os
import sys

import numpy as np
import onnx
import torch
import torchvision

# The op types each architecture exports to (opset 17, eval mode: Dropout is gone, BatchNorm folded).
ARCHS = {
    "resnet50": {"Conv", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Gemm"},
    "mobilenet_v2": {"Conv", "Clip", "Add", "GlobalAveragePool", "Flatten", "Gemm"},
    "efficientnet_b0": {"Conv", "Sigmoid", "Mul", "Add", "GlobalAveragePool", "Flatten", "Gemm"},
}
PREPROCESSING = {"layout": "NCHW", "channels": 3, "height": 224, "width": 224, "channel_order": "rgb",
                 "scale": 0.00392156862745098, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def materialize_identities(m):
    """Replaces each Identity node that copies an initializer by a copy of that initializer under the Identity's
    output name. The TorchScript exporter deduplicates equal initializers (with random weights every folded
    BatchNorm gives the same all-zero conv bias) and leaves Identity nodes behind; this keeps the op set plain
    and every Conv with its own bias. Returns how many were replaced."""
    inits = {t.name: t for t in m.graph.initializer}
    graph_outputs = {o.name for o in m.graph.output}
    kept, new_inits = [], []
    for node in m.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits and node.output[0] not in graph_outputs:
            t = onnx.TensorProto()
            t.CopyFrom(inits[node.input[0]])
            t.name = node.output[0]
            new_inits.append(t)
        else:
            c = onnx.NodeProto()
            c.CopyFrom(node)
            kept.append(c)
    if new_inits:
        names = {t.name for t in new_inits}
        vi = [v for v in m.graph.value_info if v.name not in names]
        vi_copies = []
        for v in vi:
            c = onnx.ValueInfoProto()
            c.CopyFrom(v)
            vi_copies.append(c)
        del m.graph.node[:]
        m.graph.node.extend(kept)
        m.graph.initializer.extend(new_inits)
        del m.graph.value_info[:]
        m.graph.value_info.extend(vi_copies)
    return len(new_inits)


def export(arch, output, seed=0, opset=17):
    """Writes `arch` to `output`; returns (the eval-mode torch model, a summary dict)."""
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(weights=None).eval()
    dummy = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), output,
            dynamo=False,
            export_params=True,
            opset_version=opset,
            do_constant_folding=True,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )

    m = onnx.load(output)
    replaced = materialize_identities(m)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key = "octet.preprocessing"
    p.value = json.dumps(PREPROCESSING, separators=(",", ":"))
    m.doc_string = f"torchvision {arch}(weights=None), random weights, torch.manual_seed({seed}); for benchmarks only"
    onnx.checker.check_model(m)
    onnx.save(m, output)

    counts = collections.Counter(n.op_type for n in m.graph.node)
    # Constant nodes carry scalars (Clip's bounds) in some torch versions (2.11), initializers in others.
    bad = {k: v for k, v in counts.items() if k not in ARCHS[arch] | {"Constant"}}
    if bad or any(n.domain not in ("", "ai.onnx") for n in m.graph.node):
        sys.exit(f"{output}: unexpected op types {bad} (all: {dict(counts)})")
    params = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    return model, {"model": arch, "path": output, "bytes": os.path.getsize(output), "opset": opset,
                   "initializer_elements": params, "identities_materialized": replaced,
                   "op_counts": dict(sorted(counts.items())), "torch": torch.__version__,
                   "torchvision": torchvision.__version__}


def verify(model, output):
    import onnxruntime as ort
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model(x).numpy()
    sess = ort.InferenceSession(output, providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"input": x.numpy()})[0]
    diff = float(np.abs(ref - got).max())
    scale = float(np.abs(ref).max())
    print(json.dumps({"verify": "onnxruntime-cpu vs torch-cpu", "batch": 2, "max_abs_diff": diff,
                      "max_abs_ref": scale, "argmax_equal": bool((ref.argmax(1) == got.argmax(1)).all())}))
    if not diff <= 1e-3 * max(1.0, scale):
        sys.exit(f"{output}: ONNX Runtime and PyTorch differ by {diff}")


def main(default_arch=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="path of the .onnx file to write")
    ap.add_argument("--arch", choices=sorted(ARCHS), default=default_arch, required=default_arch is None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--verify", action="store_true", help="compare ONNX Runtime (CPU) with PyTorch, batch 2")
    args = ap.parse_args()
    model, summary = export(args.arch, args.output, args.seed, args.opset)
    print(json.dumps(summary))
    if args.verify:
        verify(model, args.output)


if __name__ == "__main__":
    main()
