#!/usr/bin/env python3
"""Export torchvision ResNet-50 with random weights (seed 0) to ONNX, for benchmarks.

    python3 tools/models/export_resnet50.py /tmp/resnet50.onnx [--verify]

TorchScript exporter (dynamo=False), opset 17, constant folding (BatchNorm folded into the convolutions),
input "input" [N,3,224,224], output "logits" [N,1000], dynamic batch axis. The weights are torchvision's
random initialisation, so the file (~100 MB) is only good for timing and for comparing engines with each
other: it is never committed. Its op types are checked against the set octet expects (Conv, Relu, MaxPool,
Add, GlobalAveragePool, Flatten, Gemm); anything else fails loudly. --verify compares ONNX Runtime (CPU) with
PyTorch on a random batch.
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

EXPECTED_OPS = {"Conv", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Gemm"}
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="path of the .onnx file to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--verify", action="store_true", help="compare ONNX Runtime (CPU) with PyTorch, batch 2")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    model = torchvision.models.resnet50(weights=None).eval()
    dummy = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), args.output,
            dynamo=False,
            export_params=True,
            opset_version=args.opset,
            do_constant_folding=True,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )

    m = onnx.load(args.output)
    replaced = materialize_identities(m)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key = "octet.preprocessing"
    p.value = json.dumps(PREPROCESSING, separators=(",", ":"))
    m.doc_string = f"torchvision resnet50(weights=None), random weights, torch.manual_seed({args.seed}); for benchmarks only"
    onnx.checker.check_model(m)
    onnx.save(m, args.output)

    counts = collections.Counter(n.op_type for n in m.graph.node)
    bad = {k: v for k, v in counts.items() if k not in EXPECTED_OPS}
    if bad or any(n.domain not in ("", "ai.onnx") for n in m.graph.node):
        sys.exit(f"{args.output}: unexpected op types {bad} (all: {dict(counts)})")
    params = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    print(json.dumps({"model": "resnet50", "path": args.output, "bytes": os.path.getsize(args.output),
                      "opset": args.opset, "initializer_elements": params, "identities_materialized": replaced, "op_counts": dict(sorted(counts.items())),
                      "torch": torch.__version__, "torchvision": torchvision.__version__}))

    if args.verify:
        import onnxruntime as ort
        x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            ref = model(x).numpy()
        sess = ort.InferenceSession(args.output, providers=["CPUExecutionProvider"])
        got = sess.run(["logits"], {"input": x.numpy()})[0]
        diff = float(np.abs(ref - got).max())
        scale = float(np.abs(ref).max())
        print(json.dumps({"verify": "onnxruntime-cpu vs torch-cpu", "batch": 2, "max_abs_diff": diff,
                          "max_abs_ref": scale, "argmax_equal": bool((ref.argmax(1) == got.argmax(1)).all())}))
        if not diff <= 1e-3 * max(1.0, scale):
            sys.exit(f"{args.output}: ONNX Runtime and PyTorch differ by {diff}")


if __name__ == "__main__":
    main()
