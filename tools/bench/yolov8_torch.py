#!/usr/bin/env python3
"""YOLOv8 (detection) as plain PyTorch modules, weights read from an ultralytics ONNX export: the PyTorch
peer of octet's YOLOv8n speed row (BENCHMARKS.md) that torch.compile can trace.

    python3 tools/bench/yolov8_torch.py MODEL.onnx --check [--size 320]

Why not onnx2torch: its Reshape module calls torch.Size() on a tensor, which dynamo cannot trace
(torch.compile fails on the converted graph, also after ONNX Runtime folds the shape arithmetic), so
the YOLO row had no torch.compile figure. This file writes the network the way ultralytics' modules
compute it (Conv = convolution with the BatchNorm folded in, as the export holds it, then SiLU; C2f,
Bottleneck, SPPF, Detect with DFL and the anchor decode) and takes every channel count from the
export's initializers (ultralytics names them after the module path, e.g. `model.2.m.0.cv1.conv.weight`),
so any YOLOv8 size and class count loads. `--check` runs it beside ONNX Runtime on one random input
and prints the relative L2 error of the output (the two compute the same graph in float32).

The layer list is YOLOv8's detection config (backbone 0-9, neck 10-21, Detect 22): the indices below
are the ONNX export's `model.<i>` prefixes.
"""

import argparse
import sys

import torch
from torch import nn


class Conv(nn.Module):
    """Convolution (BatchNorm folded into its weight and bias, as exported) then SiLU."""

    def __init__(self, sd, prefix, stride=1):
        super().__init__()
        w = sd[prefix + ".conv.weight"]
        self.conv = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], stride, w.shape[2] // 2, bias=True)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.conv(x))


class Bottleneck(nn.Module):
    def __init__(self, sd, prefix, shortcut):
        super().__init__()
        self.cv1 = Conv(sd, prefix + ".cv1")
        self.cv2 = Conv(sd, prefix + ".cv2")
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """cv1 -> split in two halves -> n bottlenecks on the last half -> concat of all -> cv2."""

    def __init__(self, sd, prefix, shortcut):
        super().__init__()
        self.cv1 = Conv(sd, prefix + ".cv1")
        self.cv2 = Conv(sd, prefix + ".cv2")
        n = len({k.split(".")[3] for k in sd if k.startswith(prefix + ".m.")})
        self.m = nn.ModuleList(Bottleneck(sd, f"{prefix}.m.{j}", shortcut) for j in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, sd, prefix):
        super().__init__()
        self.cv1 = Conv(sd, prefix + ".cv1")
        self.cv2 = Conv(sd, prefix + ".cv2")
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class Detect(nn.Module):
    """Per level a box branch (4 x reg_max distribution logits) and a class branch; DFL turns each
    distribution into a distance, the anchors and strides into xywh boxes; classes through Sigmoid."""

    def __init__(self, sd, prefix, strides):
        super().__init__()
        levels = len(strides)

        def branch(name, i):
            w = sd[f"{prefix}.{name}.{i}.2.weight"]
            last = nn.Conv2d(w.shape[1], w.shape[0], 1, bias=True)
            return nn.Sequential(Conv(sd, f"{prefix}.{name}.{i}.0"), Conv(sd, f"{prefix}.{name}.{i}.1"), last)

        self.cv2 = nn.ModuleList(branch("cv2", i) for i in range(levels))
        self.cv3 = nn.ModuleList(branch("cv3", i) for i in range(levels))
        dfl = sd[prefix + ".dfl.conv.weight"]
        self.reg_max = dfl.shape[1]
        self.dfl = nn.Module()
        self.dfl.conv = nn.Conv2d(self.reg_max, 1, 1, bias=False)
        self.strides = strides
        self.anchors = None  # (anchor points [2, A], strides [1, A]) for the last input size

    def make_anchors(self, feats):
        points, strides = [], []
        for f, s in zip(feats, self.strides):
            h, w = f.shape[2:]
            sy, sx = torch.meshgrid(torch.arange(h, device=f.device, dtype=f.dtype) + 0.5,
                                    torch.arange(w, device=f.device, dtype=f.dtype) + 0.5, indexing="ij")
            points.append(torch.stack((sx, sy), -1).view(-1, 2))
            strides.append(torch.full((h * w, 1), s, device=f.device, dtype=f.dtype))
        return torch.cat(points).transpose(0, 1), torch.cat(strides).transpose(0, 1)

    def forward(self, feats):
        b = feats[0].shape[0]
        out = [torch.cat((self.cv2[i](f), self.cv3[i](f)), 1) for i, f in enumerate(feats)]
        if self.anchors is None or self.anchors[0].shape[1] != sum(f.shape[2] * f.shape[3] for f in feats):
            self.anchors = self.make_anchors(feats)
        anchors, strides = self.anchors
        x = torch.cat([o.view(b, o.shape[1], -1) for o in out], 2)
        box, cls = x.split((4 * self.reg_max, x.shape[1] - 4 * self.reg_max), 1)
        a = box.shape[2]
        dist = self.dfl.conv(box.view(b, 4, self.reg_max, a).transpose(2, 1).softmax(1)).view(b, 4, a)
        lt, rb = dist.chunk(2, 1)
        x1y1, x2y2 = anchors - lt, anchors + rb
        xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1)
        return torch.cat((xywh * strides, cls.sigmoid()), 1)


class YOLOv8(nn.Module):
    def __init__(self, sd):
        super().__init__()
        self.model = nn.ModuleDict()
        for i, stride in ((0, 2), (1, 2), (3, 2), (5, 2), (7, 2), (16, 2), (19, 2)):
            self.model[str(i)] = Conv(sd, f"model.{i}", stride)
        for i, shortcut in ((2, True), (4, True), (6, True), (8, True), (12, False), (15, False), (18, False), (21, False)):
            self.model[str(i)] = C2f(sd, f"model.{i}", shortcut)
        self.model["9"] = SPPF(sd, "model.9")
        self.model["22"] = Detect(sd, "model.22", (8.0, 16.0, 32.0))
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        missing, unexpected = self.load_state_dict(
            {k: v for k, v in sd.items() if k.startswith("model.")}, strict=False)
        if missing or unexpected:
            raise ValueError(f"weights do not fit YOLOv8: missing {missing[:5]}, unexpected {unexpected[:5]}")

    def forward(self, x):
        m = self.model
        x = m["1"](m["0"](x))
        p3 = m["4"](m["3"](m["2"](x)))
        p4 = m["6"](m["5"](p3))
        p5 = m["9"](m["8"](m["7"](p4)))
        n4 = m["12"](torch.cat((self.up(p5), p4), 1))
        o3 = m["15"](torch.cat((self.up(n4), p3), 1))
        o4 = m["18"](torch.cat((m["16"](o3), n4), 1))
        o5 = m["21"](torch.cat((m["19"](o4), p5), 1))
        return m["22"]([o3, o4, o5])


def load_yolov8(onnx_path):
    """The network with the export's weights (float32, CPU)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    model = onnx.load(onnx_path)
    sd = {t.name: torch.from_numpy(np.array(numpy_helper.to_array(t), dtype=np.float32))
          for t in model.graph.initializer}
    return YOLOv8(sd).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="an ultralytics YOLOv8 detection export")
    ap.add_argument("--check", action="store_true", help="compare with ONNX Runtime on one random input")
    ap.add_argument("--size", type=int, default=320, help="input height and width for --check (default 320)")
    args = ap.parse_args()
    net = load_yolov8(args.onnx)
    print(f"{args.onnx}: YOLOv8 with {sum(p.numel() for p in net.parameters()):,} parameters")
    if args.check:
        import numpy as np
        import onnxruntime as ort
        x = np.random.default_rng(0).random((1, 3, args.size, args.size), dtype=np.float32)
        session = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
        want = session.run(None, {session.get_inputs()[0].name: x})[0]
        with torch.no_grad():
            got = net(torch.from_numpy(x)).numpy()
        if got.shape != want.shape:
            sys.exit(f"shape {got.shape}, ONNX Runtime {want.shape}")
        rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
        print(f"output {list(got.shape)}: relative L2 error against ONNX Runtime {rel:.2e}")
        if rel > 1e-4:
            sys.exit("the PyTorch network differs from the export")


if __name__ == "__main__":
    main()
