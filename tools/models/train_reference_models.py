#!/usr/bin/env python3
"""Train octet's four reference CNNs on Fashion-MNIST and export them to ONNX.

Runs on the GPU machine (PyTorch with CUDA, torchvision not needed, onnx, onnxruntime, numpy):

    python3 tools/models/train_reference_models.py --data .carry/fashion-mnist --out models

For every model it
  1. trains it (seeded, deterministic cuDNN algorithms, whole data set resident on the GPU),
  2. exports it with the TorchScript exporter (opset 17, input "input", output "logits", dynamic batch),
     stores the preprocessing in metadata_props["octet.preprocessing"], and checks that every op type is
     one octet imports (fails loudly otherwise),
  3. evaluates the ONNX file with ONNX Runtime (CPUExecutionProvider) on the 10,000 t10k images and writes
     <out>/<name>.json,
  4. writes reference tensors <out>/reference/<name>/input_0.pb and output_0.pb (ONNX TensorProto, the
     layout of ONNX's backend node tests): the first 16 test images preprocessed, and ORT's logits for them,
     plus <out>/reference/labels.json with the labels of those 16 images.

Data: the Debian package dataset-fashion-mnist (IDX files, gzip), read with numpy; nothing is downloaded.
Preprocessing (float32, per pixel): x = pixel * (1/255); x = (x - 0.2860) / 0.3530; layout NCHW [N,1,28,28].
"""

import argparse
import collections
import gzip
import hashlib
import json
import os
import sys
import time

# Deterministic cuBLAS needs this before CUDA is initialised.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.numpy_helper  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OPSET = 17
SCALE = 0.00392156862745098  # 1/255
MEAN = 0.2860
STD = 0.3530
PREPROCESSING = {
    "layout": "NCHW",
    "channels": 1,
    "height": 28,
    "width": 28,
    "channel_order": "gray",
    "scale": SCALE,
    "mean": [MEAN],
    "std": [STD],
}
PREPROCESSING_JSON = json.dumps(PREPROCESSING, separators=(",", ":"))
PREPROCESSING_FORMULA = "x = pixel * scale; x = (x - mean[c]) / std[c]; in float32"
DATASET = "Debian dataset-fashion-mnist, t10k"
ALLOWED_OPS = {
    "Conv", "Gemm", "MatMul", "Add", "Relu", "Clip", "BatchNormalization", "MaxPool", "AveragePool",
    "GlobalAveragePool", "Flatten", "Reshape", "Concat", "Softmax", "Identity", "Constant",
}
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]
NUM_REFERENCE = 16


# ----------------------------------------------------------------------------------------------- data
def read_idx(path):
    """Reads an IDX file (optionally gzip-compressed) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    dtype_code, ndim = data[2], data[3]
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if dtype_code not in dtypes:
        raise ValueError(f"{path}: unknown IDX data type 0x{dtype_code:02x}")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    arr = np.frombuffer(data, dtype=dtypes[dtype_code], offset=offset)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {int(np.prod(dims))} elements, found {arr.size}")
    return arr.reshape(dims)


def find_file(folder, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{folder}: neither {stem}.gz nor {stem} found")


def load_fmnist(folder):
    x_train = read_idx(find_file(folder, "train-images-idx3-ubyte"))
    y_train = read_idx(find_file(folder, "train-labels-idx1-ubyte"))
    x_test = read_idx(find_file(folder, "t10k-images-idx3-ubyte"))
    y_test = read_idx(find_file(folder, "t10k-labels-idx1-ubyte"))
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,), (x_train.shape, y_train.shape)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,), (x_test.shape, y_test.shape)
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def preprocess(pixels_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28], exactly the documented float32 expression."""
    x = pixels_u8.astype(np.float32) * np.float32(SCALE)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32)


# --------------------------------------------------------------------------------------------- models
def conv_bn(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    )


class BasicBlock(nn.Module):
    """ResNet v1 basic block; a strided block gets a 1x1 projection (conv+BN) on the shortcut.

    post_add_bn puts a BatchNorm between the residual Add and the ReLU: the ONNX exporter cannot fold it
    into a Conv, so the exported file keeps a BatchNormalization node that octet must handle itself."""

    def __init__(self, cin, cout, stride=1, post_add_bn=False):
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride)
        self.conv2 = conv_bn(cout, cout, 3, 1)
        self.proj = conv_bn(cin, cout, 1, stride) if (stride != 1 or cin != cout) else None
        self.post_bn = nn.BatchNorm2d(cout) if post_add_bn else None

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        s = self.proj(x) if self.proj is not None else x
        y = y + s
        if self.post_bn is not None:
            y = self.post_bn(y)
        return F.relu(y)


class ResNetFMNIST(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        # A BatchNorm on the network input (as MXNet's ResNets' "bn_data"): nothing precedes it to fold into.
        self.bn_data = nn.BatchNorm2d(1)
        self.stem = conv_bn(1, 24, 3)
        self.layer1 = nn.Sequential(BasicBlock(24, 24), BasicBlock(24, 24))       # 28x28
        self.layer2 = nn.Sequential(BasicBlock(24, 48, stride=2), BasicBlock(48, 48))  # 14x14
        self.layer3 = nn.Sequential(BasicBlock(48, 96, stride=2, post_add_bn=True))  # 7x7
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(96, num_classes)

    def forward(self, x):
        x = self.bn_data(x)
        x = F.relu(self.stem(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1 linear projection, residual when
    stride 1 and cin == cout."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers += [conv_bn(cin, hidden, 1), nn.ReLU6()]
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(), conv_bn(hidden, cout, 1)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2FMNIST(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        cfg = [  # cin, cout, stride, expand
            (16, 16, 1, 1),
            (16, 24, 2, 4), (24, 24, 1, 4),   # 14x14
            (24, 32, 2, 4), (32, 32, 1, 4),   # 7x7
            (32, 48, 1, 4), (48, 48, 1, 4),
        ]
        self.stem = nn.Sequential(conv_bn(1, 16, 3), nn.ReLU6())
        self.blocks = nn.Sequential(*[InvertedResidual(*c) for c in cfg])
        self.head = nn.Sequential(conv_bn(48, 160, 1), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(160, num_classes)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def conv_bn_relu(cin, cout, k, stride=1):
    return nn.Sequential(conv_bn(cin, cout, k, stride), nn.ReLU(inplace=True))


class InceptionA(nn.Module):
    """1x1 | 1x1->3x3 | 1x1->3x3->3x3 (double 3x3) | AvgPool 3x3 s1 p1 (count_include_pad=False)->1x1."""

    def __init__(self, cin, c1, c3r, c3, cdr, cd, cp):
        super().__init__()
        self.b1 = conv_bn_relu(cin, c1, 1)
        self.b3 = nn.Sequential(conv_bn_relu(cin, c3r, 1), conv_bn_relu(c3r, c3, 3))
        self.bd = nn.Sequential(conv_bn_relu(cin, cdr, 1), conv_bn_relu(cdr, cd, 3), conv_bn_relu(cd, cd, 3))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.bp = conv_bn_relu(cin, cp, 1)
        self.out_channels = c1 + c3 + cd + cp

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.bd(x), self.bp(self.pool(x))], 1)


class InceptionB(nn.Module):
    """1x1 | 1x1->3x3 | 1x1->5x5 | pool 3x3 s1 p1 -> 1x1; the pool is MaxPool or AvgPool with
    count_include_pad=True (PyTorch's default, ONNX count_include_pad=1)."""

    def __init__(self, cin, c1, c3r, c3, c5r, c5, cp, max_pool):
        super().__init__()
        self.b1 = conv_bn_relu(cin, c1, 1)
        self.b3 = nn.Sequential(conv_bn_relu(cin, c3r, 1), conv_bn_relu(c3r, c3, 3))
        self.b5 = nn.Sequential(conv_bn_relu(cin, c5r, 1), conv_bn_relu(c5r, c5, 5))
        self.pool = nn.MaxPool2d(3, 1, 1) if max_pool else nn.AvgPool2d(3, 1, 1, count_include_pad=True)
        self.bp = conv_bn_relu(cin, cp, 1)
        self.out_channels = c1 + c3 + c5 + cp

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(self.pool(x))], 1)


class InceptionFMNIST(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = conv_bn_relu(1, 32, 3)                       # 28x28
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)        # 14x14
        self.inc_a = InceptionA(32, 16, 16, 24, 8, 12, 12)        # -> 64
        self.inc_b = InceptionB(64, 24, 24, 32, 8, 16, 16, max_pool=True)   # -> 88
        self.pool2 = nn.MaxPool2d(3, stride=2, padding=1)        # 7x7
        self.inc_c = InceptionB(88, 32, 32, 48, 12, 24, 24, max_pool=False)  # -> 128
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool1(self.stem(x))
        x = self.pool2(self.inc_b(self.inc_a(x)))
        x = self.inc_c(x)
        return self.fc(torch.flatten(self.pool(x), 1))


class MLPFMNIST(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.net(x)


MODELS = collections.OrderedDict([
    # name: (constructor, epochs, peak learning rate, augment, description)
    ("resnet_fmnist", (ResNetFMNIST, 12, 4e-3, True,
                       "ResNet v1: input BatchNorm, 3x3 stem conv 24, stages 2x BasicBlock(24) @28x28, "
                       "BasicBlock(48, stride 2, 1x1 projection) + BasicBlock(48) @14x14, BasicBlock(96, stride 2, "
                       "1x1 projection, BatchNorm after the residual Add) @7x7, GlobalAveragePool, Flatten, Gemm")),
    ("mobilenetv2_fmnist", (MobileNetV2FMNIST, 14, 5e-3, True,
                            "MobileNetV2: 3x3 stem conv 16 + ReLU6 (Clip), 7 inverted residual blocks (expand 1x1 + "
                            "ReLU6, 3x3 depthwise + ReLU6, linear 1x1 bottleneck; residual Add where stride 1 and "
                            "cin == cout; channels 16-24-24-32-32-48-48, strides 1,2,1,2,1,1,1), 1x1 conv 160 + ReLU6, "
                            "GlobalAveragePool, Flatten, Gemm")),
    ("inception_fmnist", (InceptionFMNIST, 12, 4e-3, True,
                          "Inception: 3x3 stem conv 32, MaxPool 3/2 pad 1, InceptionA (1x1 | 1x1-3x3 | 1x1-3x3-3x3 | "
                          "AveragePool 3/1 pad 1 count_include_pad=0 - 1x1) -> 64, InceptionB (1x1 | 1x1-3x3 | 1x1-5x5 | "
                          "MaxPool 3/1 pad 1 - 1x1) -> 88, MaxPool 3/2 pad 1, InceptionB with AveragePool 3/1 pad 1 "
                          "count_include_pad=1 -> 128, GlobalAveragePool, Flatten, Gemm; all convs BN+ReLU")),
    ("mlp_fmnist", (MLPFMNIST, 15, 2e-3, False,
                    "MLP: Flatten, Gemm 784-256, ReLU, Gemm 256-128, ReLU, Gemm 128-10")),
])


# ------------------------------------------------------------------------------------------- training
def augment(x, gen, bg):
    """Random horizontal flip and random translation by up to 2 pixels (background-filled), per sample."""
    n = x.shape[0]
    dev = x.device
    flip = torch.rand(n, device=dev, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = 2
    xp = F.pad(x, (pad, pad, pad, pad), value=bg)
    i = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=gen)
    j = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=gen)
    ar = torch.arange(28, device=dev)
    rows = (i[:, None] + ar[None, :])[:, :, None]
    cols = (j[:, None] + ar[None, :])[:, None, :]
    return xp[:, 0][torch.arange(n, device=dev)[:, None, None], rows, cols][:, None]


@torch.no_grad()
def torch_logits(model, x, batch=2500):
    model.eval()
    return torch.cat([model(x[k:k + batch]) for k in range(0, x.shape[0], batch)])


def train(name, model, epochs, lr, do_augment, xtr, ytr, xte, yte, seed, batch_size):
    dev = xtr.device
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    steps_per_epoch = xtr.shape[0] // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch,
                                                pct_start=0.25)
    bg = float((0.0 - MEAN) / STD)
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], device=dev, generator=gen)
        total_loss = torch.zeros((), device=dev)
        for s in range(steps_per_epoch):
            idx = perm[s * batch_size:(s + 1) * batch_size]
            xb, yb = xtr[idx], ytr[idx]
            if do_augment:
                xb = augment(xb, gen, bg)
            loss = F.cross_entropy(model(xb), yb, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.detach()
        acc = (torch_logits(model, xte).argmax(1) == yte).float().mean().item()
        print(f"[{name}] epoch {epoch + 1}/{epochs} loss {total_loss.item() / steps_per_epoch:.4f} "
              f"test top-1 {acc * 100:.2f}% ({time.time() - t0:.1f} s)", flush=True)
    model.eval()
    return time.time() - t0


# ------------------------------------------------------------------------------------- export & check
def op_counts(model_proto):
    counts = collections.Counter()
    for node in model_proto.graph.node:
        counts[node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"] += 1
    return dict(sorted(counts.items()))


def check_ops(model_proto, allowed, origin):
    counts = op_counts(model_proto)
    bad = {k: v for k, v in counts.items() if k not in allowed}
    if bad:
        raise RuntimeError(f"{origin}: op types outside octet's import set: {bad} (all: {counts})")
    for node in model_proto.graph.node:
        for attr in node.attribute:
            if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise RuntimeError(f"{origin}: node {node.name} ({node.op_type}) has a subgraph")
    return counts


def export_onnx(model, path, name):
    model.eval().cpu()
    dummy = torch.zeros(2, 1, 28, 28)
    kwargs = dict(export_params=True, opset_version=OPSET, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    try:
        torch.onnx.export(model, (dummy,), path, dynamo=False, do_constant_folding=True, **kwargs)
        exporter = "torchscript"
    except Exception as e:  # the TorchScript exporter is deprecated; say so loudly and try the other one
        print(f"WARNING: TorchScript exporter failed ({type(e).__name__}: {e}); trying dynamo=True", flush=True)
        torch.onnx.export(model, (dummy,), path, dynamo=True, optimize=True, external_data=False, **kwargs)
        exporter = "dynamo"
    m = onnx.load(path)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key = "octet.preprocessing"
    p.value = PREPROCESSING_JSON
    m.doc_string = f"octet reference model {name}: Fashion-MNIST, 10 classes; {MODELS[name][4]}"
    m.producer_name = m.producer_name or "pytorch"
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)

    counts = check_ops(m, ALLOWED_OPS, path)
    init_names = {t.name for t in m.graph.initializer}
    for node in m.graph.node:
        if node.op_type in ("Conv", "Gemm") and node.input[1] not in init_names:
            raise RuntimeError(f"{path}: {node.op_type} {node.name} weight {node.input[1]} is not an initializer")
    if [i.name for i in m.graph.input] != ["input"] or [o.name for o in m.graph.output] != ["logits"]:
        raise RuntimeError(f"{path}: graph inputs/outputs are {[i.name for i in m.graph.input]} -> "
                           f"{[o.name for o in m.graph.output]}")
    dim0 = m.graph.input[0].type.tensor_type.shape.dim[0]
    if not dim0.dim_param:
        raise RuntimeError(f"{path}: batch axis of 'input' is not dynamic")
    if name == "resnet_fmnist" and counts.get("BatchNormalization", 0) < 1:
        raise RuntimeError(f"{path}: expected at least one BatchNormalization node, got {counts}")
    return m, counts, exporter


# ------------------------------------------------------------------------------------------ evaluate
def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])


def ort_logits(sess, x, batch=1000):
    return np.concatenate([sess.run(["logits"], {"input": x[k:k + batch]})[0] for k in range(0, len(x), batch)])


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with the Fashion-MNIST IDX files (.gz or raw)")
    ap.add_argument("--out", default="models", help="output folder (default: models)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: " + ",".join(MODELS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--epochs-scale", type=float, default=1.0, help="multiply every model's epoch count")
    args = ap.parse_args()

    import onnxruntime as ort

    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            sys.exit(f"unknown model {n}; known: {', '.join(MODELS)}")
    if not torch.cuda.is_available():
        print("warning: CUDA is not available, training on the CPU (slow)", file=sys.stderr)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = False
    # Plain FP32 everywhere (no TF32), so PyTorch's logits can be compared with ONNX Runtime's CPU logits.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)

    x_train_u8, y_train, x_test_u8, y_test = load_fmnist(args.data)
    x_train, x_test = preprocess(x_train_u8), preprocess(x_test_u8)
    xtr = torch.from_numpy(x_train).to(dev)
    ytr = torch.from_numpy(y_train).to(dev)
    xte = torch.from_numpy(x_test).to(dev)
    yte = torch.from_numpy(y_test).to(dev)
    print(f"data: train {x_train.shape}, test {x_test.shape}; device {dev}"
          f"{' (' + torch.cuda.get_device_name() + ')' if dev.type == 'cuda' else ''}; torch {torch.__version__}, "
          f"onnx {onnx.__version__}, onnxruntime {ort.__version__}", flush=True)

    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)
    ref_input = x_test[:NUM_REFERENCE].copy()
    ref_labels = [int(v) for v in y_test[:NUM_REFERENCE]]
    with open(os.path.join(args.out, "reference", "labels.json"), "w") as f:
        json.dump({"dataset": DATASET, "images": f"the first {NUM_REFERENCE} t10k images, in file order",
                   "labels": ref_labels, "classes": [CLASSES[v] for v in ref_labels],
                   "preprocessing": PREPROCESSING, "preprocessing_formula": PREPROCESSING_FORMULA},
                  f, indent=2)
        f.write("\n")

    t_start = time.time()
    summary = []
    failures = []
    for name in names:
        ctor, epochs, lr, do_augment, description = MODELS[name]
        epochs = max(1, int(round(epochs * args.epochs_scale)))
        try:
            torch.manual_seed(args.seed)
            model = ctor().to(dev)
            nparams = sum(p.numel() for p in model.parameters())
            print(f"[{name}] {nparams} parameters, {epochs} epochs, lr {lr}", flush=True)
            train_s = train(name, model, epochs, lr, do_augment, xtr, ytr, xte, yte, args.seed, args.batch_size)
            t_logits = torch_logits(model, xte).float().cpu().numpy()

            path = os.path.join(args.out, f"{name}.onnx")
            m, counts, exporter = export_onnx(model, path, name)

            sess = ort_session(path)
            logits = ort_logits(sess, x_test)
            top1 = logits.argmax(1)
            top5 = np.argsort(-logits, axis=1)[:, :5]
            correct = int((top1 == y_test).sum())
            correct5 = int((top5 == y_test[:, None]).any(1).sum())
            torch_correct = int((t_logits.argmax(1) == y_test).sum())
            agree = int((t_logits.argmax(1) == top1).sum())
            max_diff = float(np.abs(t_logits - logits).max())

            ref_out = sess.run(["logits"], {"input": ref_input})[0]
            ref_dir = os.path.join(args.out, "reference", name)
            os.makedirs(ref_dir, exist_ok=True)
            with open(os.path.join(ref_dir, "input_0.pb"), "wb") as f:
                f.write(onnx.numpy_helper.from_array(ref_input, "input").SerializeToString())
            with open(os.path.join(ref_dir, "output_0.pb"), "wb") as f:
                f.write(onnx.numpy_helper.from_array(ref_out.astype(np.float32), "logits").SerializeToString())

            info = collections.OrderedDict([
                ("model", f"{name}.onnx"),
                ("description", description),
                ("preprocessing", PREPROCESSING),
                ("preprocessing_formula", PREPROCESSING_FORMULA),
                ("dataset", DATASET),
                ("num_images", int(len(y_test))),
                ("onnxruntime", ort.__version__),
                ("execution_provider", "CPUExecutionProvider"),
                ("correct", correct),
                ("top1_accuracy", correct / len(y_test)),
                ("top5_accuracy", correct5 / len(y_test)),
                ("parameters", int(nparams)),
                ("onnx_initializer_elements", int(sum(int(np.prod(t.dims)) for t in m.graph.initializer))),
                ("opset", OPSET),
                ("exporter", f"torch.onnx.export ({exporter}), torch {torch.__version__}"),
                ("ir_version", int(m.ir_version)),
                ("op_counts", counts),
                ("inputs", {"input": ["batch", 1, 28, 28]}),
                ("outputs", {"logits": ["batch", 10]}),
                ("onnx_bytes", os.path.getsize(path)),
                ("onnx_sha256", sha256(path)),
                ("reference", {"input": f"reference/{name}/input_0.pb", "output": f"reference/{name}/output_0.pb",
                               "labels": "reference/labels.json",
                               "note": f"first {NUM_REFERENCE} t10k images preprocessed, float32 "
                                       f"[{NUM_REFERENCE},1,28,28]; ONNX Runtime CPU logits"}),
                ("training", {"framework": f"torch {torch.__version__}",
                              "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
                              "epochs": epochs, "batch_size": args.batch_size, "optimizer": "AdamW wd 5e-4",
                              "schedule": f"OneCycle max_lr {lr}", "label_smoothing": 0.05,
                              "augmentation": "random horizontal flip + random shift <= 2 px" if do_augment else "none",
                              "seed": args.seed, "seconds": round(train_s, 1),
                              "torch_correct": torch_correct,
                              "torch_vs_ort_top1_agreement": agree,
                              "torch_vs_ort_max_abs_logit_diff": max_diff}),
            ])
            with open(os.path.join(args.out, f"{name}.json"), "w") as f:
                json.dump(info, f, indent=2)
                f.write("\n")
            line = (f"[{name}] ORT top-1 {correct}/{len(y_test)} = {correct / len(y_test) * 100:.2f}%, top-5 "
                    f"{correct5 / len(y_test) * 100:.2f}%, torch {torch_correct}, agree {agree}, max |dlogit| "
                    f"{max_diff:.2e}, {os.path.getsize(path)} bytes, ops {counts}")
            print(line, flush=True)
            summary.append(line)
            if agree < len(y_test) - 5 or max_diff > 1e-2:
                print(f"WARNING: [{name}] torch (GPU) and ORT (CPU) disagree on {len(y_test) - agree} images, "
                      f"max |dlogit| {max_diff:.3e}", flush=True)
        except Exception as e:  # keep going so one broken model does not cost the others
            import traceback
            traceback.print_exc()
            failures.append(f"{name}: {type(e).__name__}: {e}")

    print("\n".join([f"== summary ({time.time() - t_start:.0f} s) =="] + summary), flush=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
