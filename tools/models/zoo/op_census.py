#!/usr/bin/env python3
"""Op census of the real-model zoo: which ONNX ops, attributes and input kinds octet has to import.

    build/zoo-venv/bin/python tools/models/zoo/op_census.py [--ci] [--only id,id] [--out models/zoo/op_census.md]

Reads every fetched model (build/zoo/models/<id>.onnx, see fetch_zoo.py) listed in models/zoo/manifest.json and
writes a Markdown report (default models/zoo/op_census.md) plus the same data as JSON next to it
(op_census.json). Per model: opsets, declared inputs (dynamic dims marked), node count, the count of each op type
and, per op type, the attribute values that occur and what feeds the inputs that matter for import
(constant or computed; small constants are printed). Nodes inside If/Loop/Scan bodies are counted too.
The summary at the end gives, for every op type, how many models use it and how many nodes there are in all.
"""

import argparse
import collections
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo_common as zc  # noqa: E402

# Inputs (by position) whose kind/value is worth reporting, per op type.
INPUT_NAMES = {
    "Resize": ["X", "roi", "scales", "sizes"],
    "Upsample": ["X", "scales"],
    "Slice": ["data", "starts", "ends", "axes", "steps"],
    "Split": ["input", "split"],
    "Gather": ["data", "indices"],
    "GatherElements": ["data", "indices"],
    "Clip": ["input", "min", "max"],
    "Reshape": ["data", "shape"],
    "Pad": ["data", "pads", "constant_value", "axes"],
    "Unsqueeze": ["data", "axes"],
    "Squeeze": ["data", "axes"],
    "ReduceMean": ["data", "axes"],
    "ReduceSum": ["data", "axes"],
    "ReduceMax": ["data", "axes"],
    "Expand": ["input", "shape"],
    "Tile": ["input", "repeats"],
    "ConstantOfShape": ["input"],
    "Range": ["start", "limit", "delta"],
    "TopK": ["X", "K"],
    "PRelu": ["X", "slope"],
    "MatMul": ["A", "B"],
    "Gemm": ["A", "B", "C"],
    "Conv": ["X", "W", "B"],
    "ConvTranspose": ["X", "W", "B"],
    "Add": ["A", "B"], "Sub": ["A", "B"], "Mul": ["A", "B"], "Div": ["A", "B"], "Pow": ["A", "B"],
    "Max": ["A", "B"], "Min": ["A", "B"],
    "Concat": None,
    "BatchNormalization": ["X", "scale", "B", "mean", "var"],
    "Where": ["condition", "X", "Y"],
    "Equal": ["A", "B"], "Less": ["A", "B"], "Greater": ["A", "B"],
}
# For these, print the constant's values when it has at most this many elements.
SMALL = 8
# Binary elementwise ops: report the operand kinds compactly (const scalar / const tensor / computed).
ELTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater", "Where"}


def fmt_val(v):
    if isinstance(v, float):
        return ("%.6g" % v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(fmt_val(x) for x in v) + "]"
    return str(v)


def attr_value(a):
    t = a.type
    if t == onnx.AttributeProto.INT:
        return a.i
    if t == onnx.AttributeProto.FLOAT:
        return float(a.f)
    if t == onnx.AttributeProto.STRING:
        return a.s.decode("utf-8", "replace")
    if t == onnx.AttributeProto.INTS:
        return list(a.ints)
    if t == onnx.AttributeProto.FLOATS:
        return [float(x) for x in a.floats]
    if t == onnx.AttributeProto.STRINGS:
        return [s.decode("utf-8", "replace") for s in a.strings]
    if t == onnx.AttributeProto.TENSOR:
        arr = numpy_helper.to_array(a.t)
        if arr.size <= SMALL:
            return "tensor%s %s" % (arr.dtype, fmt_val(arr.reshape(-1).tolist()))
        return "tensor%s shape %s" % (arr.dtype, list(arr.shape))
    if t == onnx.AttributeProto.GRAPH:
        return "<subgraph>"
    return "<%s>" % onnx.AttributeProto.AttributeType.Name(t)


class Consts:
    """Names whose value is known without running the graph: initializers, Constant outputs, and Identity/Cast/
    Unsqueeze/Squeeze of those (paddle2onnx and tf2onnx route many constants through Identity)."""

    def __init__(self, graph, outer=None):
        self.vals = dict(outer.vals) if outer else {}
        for init in graph.initializer:
            self.vals[init.name] = init
        for n in graph.node:
            if n.op_type == "Constant" and n.output:
                for a in n.attribute:
                    if a.name == "value":
                        self.vals[n.output[0]] = a.t
                    elif a.name in ("value_float", "value_int", "value_floats", "value_ints"):
                        self.vals[n.output[0]] = numpy_helper.from_array(np.array(attr_value(a)))
            elif n.op_type == "Identity" and n.input and n.input[0] in self.vals:
                self.vals[n.output[0]] = self.vals[n.input[0]]

    def kind(self, name, show_values=True):
        if name == "":
            return "absent"
        t = self.vals.get(name)
        if t is None:
            return "computed"
        dims = list(t.dims)
        size = int(np.prod(dims)) if dims else 1
        if size == 0:
            return "const-empty"
        if show_values and size <= SMALL:
            arr = numpy_helper.to_array(t).reshape(-1).tolist()
            return "const %s" % fmt_val(arr if dims else arr[0])
        return "const %s" % ("x".join(map(str, dims)) if dims else "scalar")


def walk(graph, consts, per_op, attrs, inputs, depth=0):
    for n in graph.node:
        op = n.op_type if not n.domain or n.domain == "ai.onnx" else "%s::%s" % (n.domain, n.op_type)
        per_op[op] += 1
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                sub = a.g
                walk(sub, Consts(sub, consts), per_op, attrs, inputs, depth + 1)
                continue
            if a.type == onnx.AttributeProto.GRAPHS:
                for sub in a.graphs:
                    walk(sub, Consts(sub, consts), per_op, attrs, inputs, depth + 1)
                continue
            if n.op_type == "Constant":
                continue
            attrs[op][a.name][fmt_val(attr_value(a))] += 1
        if n.op_type == "Conv":
            # kernel/stride/group class is the useful summary for Conv
            a = {x.name: attr_value(x) for x in n.attribute}
            w = consts.vals.get(n.input[1])
            kind = "?"
            if w is not None and len(w.dims) == 4:
                g = a.get("group", 1)
                cout, cin_g = w.dims[0], w.dims[1]
                kind = "depthwise" if g > 1 and cin_g == 1 else ("grouped" if g > 1 else "dense")
                k = "x".join(map(str, w.dims[2:]))
                s = "x".join(map(str, a.get("strides", [1, 1])))
                attrs[op]["(class)"]["%s k%s s%s" % (kind, k, s)] += 1
        names = INPUT_NAMES.get(n.op_type, "skip")
        if names == "skip":
            continue
        if n.op_type == "Concat":
            nconst = sum(1 for x in n.input if x in consts.vals)
            inputs[op]["inputs"]["%d inputs, %d const" % (len(n.input), nconst)] += 1
            continue
        for i, name in enumerate(n.input):
            label = names[i] if names and i < len(names) else "in%d" % i
            show = n.op_type not in ("Conv", "ConvTranspose", "MatMul", "Gemm", "BatchNormalization", "PRelu") \
                and not (n.op_type in ELTWISE and False)
            k = consts.kind(name, show_values=show)
            if n.op_type in ("Conv", "ConvTranspose", "MatMul", "Gemm", "BatchNormalization", "PRelu", "LSTM") \
                    and k.startswith("const") and not k.startswith("const-"):
                t = consts.vals[name]
                k = "const rank %d" % len(t.dims)  # weights: their shapes would only be noise here
            elif n.op_type in ELTWISE and k.startswith("const") and not k.startswith("const-"):
                # collapse values for elementwise ops: the shape class is what matters
                t = consts.vals[name]
                size = int(np.prod(list(t.dims))) if t.dims else 1
                k = "const scalar" if size == 1 else "const tensor %s" % "x".join(map(str, t.dims))
            inputs[op][label][k] += 1
        # absent optional inputs (e.g. Resize roi/scales/sizes, Slice axes/steps)
        if names:
            for i in range(len(n.input), len(names)):
                if n.op_type in ("Resize", "Slice", "Clip", "Pad", "Split", "Gemm", "Conv", "ConvTranspose",
                                 "ReduceMean", "ReduceSum", "ReduceMax", "Squeeze", "Unsqueeze"):
                    inputs[op][names[i]]["absent"] += 1


def census(path):
    mp = onnx.load(path)
    per_op = collections.Counter()
    attrs = collections.defaultdict(lambda: collections.defaultdict(collections.Counter))
    inputs = collections.defaultdict(lambda: collections.defaultdict(collections.Counter))
    walk(mp.graph, Consts(mp.graph), per_op, attrs, inputs)
    ins = []
    for vi in zc.graph_inputs(mp):
        d = zc.dims_of(vi)
        ins.append({"name": vi.name, "dtype": onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type).lower(),
                    "dims": d, "dynamic": [i for i, v in enumerate(d or []) if not isinstance(v, int) or v <= 0]})
    return {
        "opsets": {(o.domain or "ai.onnx"): o.version for o in mp.opset_import},
        "ir_version": mp.ir_version,
        "producer": ("%s %s" % (mp.producer_name, mp.producer_version)).strip(),
        "inputs": ins,
        "outputs": [{"name": o.name, "dims": zc.dims_of(o)} for o in mp.graph.output],
        "nodes": sum(per_op.values()),
        "initializers": len(mp.graph.initializer),
        "ops": dict(sorted(per_op.items(), key=lambda kv: (-kv[1], kv[0]))),
        "attributes": {op: {a: dict(c.most_common()) for a, c in sorted(d.items())} for op, d in sorted(attrs.items())},
        "inputs_kind": {op: {a: dict(c.most_common()) for a, c in d.items()} for op, d in sorted(inputs.items())},
    }


def dims_str(dims, dynamic):
    if dims is None:
        return "(no shape)"
    return "[" + ", ".join(("**%s**" % d) if i in dynamic else str(d) for i, d in enumerate(dims)) + "]"


def counter_str(c, limit=12):
    items = list(c.items())
    s = ", ".join("%s ×%d" % (k, v) for k, v in items[:limit])
    if len(items) > limit:
        s += ", … (%d more values)" % (len(items) - limit)
    return s


def write_md(results, manifest_models, out):
    by_id = {m["id"]: m for m in manifest_models}
    L = []
    L.append("# Op census of the real-model zoo")
    L.append("")
    L.append("Generated by `tools/models/zoo/op_census.py` from the models in `models/zoo/manifest.json` "
             "(fetched with `tools/models/zoo/fetch_zoo.py`; see `docs/model_zoo.md`). onnx %s. "
             "Do not edit by hand: rerun the script." % onnx.__version__)
    L.append("")
    L.append("Conventions: in input shapes, **bold** dims are dynamic (symbolic, `?` or -1). "
             "Attribute values are listed as `value ×count`. Under *inputs*, `const v` is a constant "
             "(initializer, `Constant` node, or `Identity` of one) printed when it has at most %d elements, "
             "`computed` comes from another node or a graph input, `absent` is an omitted optional input. "
             "For elementwise ops only the operand class is shown (const scalar / const tensor / computed). "
             "Conv `(class)` is dense/grouped/depthwise with kernel and stride." % SMALL)
    L.append("")
    L.append("## Models")
    L.append("")
    L.append("| id | task | opsets | IR | producer | nodes | inputs (declared) | run shape |")
    L.append("|---|---|---|---|---|---|---|---|")
    for mid, r in results.items():
        m = by_id[mid]
        ops = ", ".join("%s %d" % (k, v) for k, v in r["opsets"].items())
        ins = "; ".join("`%s` %s %s" % (i["name"], i["dtype"], dims_str(i["dims"], i["dynamic"])) for i in r["inputs"])
        run = "; ".join("x".join(map(str, v)) for v in m["run_shapes"].values())
        L.append("| %s | %s | %s | %d | %s | %d | %s | %s |" % (mid, m["task"], ops, r["ir_version"],
                                                             r["producer"] or "(empty)", r["nodes"], ins, run))
    L.append("")
    for mid, r in results.items():
        m = by_id[mid]
        L.append("## %s" % mid)
        L.append("")
        L.append("%s — %s %s, `%s`. Opsets: %s. Nodes: %d, initializers: %d." % (
            m["family"], m["source"]["package"], m["source"]["version"], m["source"]["member"],
            ", ".join("%s %d" % kv for kv in r["opsets"].items()), r["nodes"], r["initializers"]))
        L.append("")
        L.append("Inputs: " + "; ".join("`%s` %s %s" % (i["name"], i["dtype"], dims_str(i["dims"], i["dynamic"]))
                                         for i in r["inputs"]))
        L.append("")
        L.append("Outputs: " + "; ".join("`%s` %s" % (o["name"], dims_str(o["dims"], [j for j, d in enumerate(o["dims"] or []) if not isinstance(d, int) or d <= 0]))
                                          for o in r["outputs"]))
        L.append("")
        L.append("| op | count | attributes | inputs |")
        L.append("|---|---|---|---|")
        for op, cnt in r["ops"].items():
            at = r["attributes"].get(op, {})
            ik = r["inputs_kind"].get(op, {})
            a_s = "<br>".join("%s: %s" % (a, counter_str(c)) for a, c in at.items())
            i_s = "<br>".join("%s: %s" % (a, counter_str(c)) for a, c in ik.items())
            L.append("| %s | %d | %s | %s |" % (op, cnt, a_s.replace("|", "\\|"), i_s.replace("|", "\\|")))
        L.append("")
    # summary
    uses = collections.Counter()
    nodes = collections.Counter()
    which = collections.defaultdict(list)
    for mid, r in results.items():
        for op, c in r["ops"].items():
            uses[op] += 1
            nodes[op] += c
            which[op].append(mid)
    L.append("## Summary: op type → models using it")
    L.append("")
    L.append("%d models, %d op types, %d nodes in all." % (len(results), len(uses), sum(nodes.values())))
    L.append("")
    L.append("| op type | models | nodes | models using it |")
    L.append("|---|---|---|---|")
    for op, n in sorted(uses.items(), key=lambda kv: (-kv[1], kv[0])):
        w = which[op]
        ws = ", ".join(w) if len(w) <= 8 else ", ".join(w[:8]) + ", … (%d more)" % (len(w) - 8)
        L.append("| %s | %d | %d | %s |" % (op, n, nodes[op], ws))
    L.append("")
    with open(out, "w") as f:
        f.write("\n".join(L))
    return uses, nodes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ci", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--out", default=os.path.join(zc.REPO, "models", "zoo", "op_census.md"))
    ap.add_argument("--cache", default=zc.CACHE)
    args = ap.parse_args()
    manifest = zc.load_manifest()
    models = zc.select(manifest["models"], ci=args.ci, only=args.only)
    results = {}
    missing = []
    for m in models:
        p = zc.model_path(m, args.cache)
        if not os.path.isfile(p):
            missing.append(m["id"])
            continue
        results[m["id"]] = census(p)
    if missing:
        print("op_census: not fetched, skipped: %s (run tools/models/zoo/fetch_zoo.py)" % ", ".join(missing),
              file=sys.stderr)
    uses, nodes = write_md(results, manifest["models"], args.out)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({"onnx_version": onnx.__version__, "models": results,
                   "summary": {op: {"models": uses[op], "nodes": nodes[op]} for op in sorted(uses)}}, f, indent=1)
        f.write("\n")
    print("op_census: %d models, %d op types -> %s" % (len(results), len(uses), args.out))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
