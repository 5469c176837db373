#!/usr/bin/env python3
"""PyTorch peer for octet's real-model speed table (BENCHMARKS.md): FP16, channels-last, eager and
torch.compile, one JSON line per (mode, batch).

    python3 tools/bench/pytorch_models.py --arch mobilenet_v2 --batch-sizes 1,32
    python3 tools/bench/pytorch_models.py --yolov8 yolov8n.onnx --input-shape 3x640x640 --batch-sizes 1,32
    python3 tools/bench/pytorch_models.py --onnx model.onnx --input-shape 3x640x640 --batch-sizes 1,32

The model: a torchvision architecture (`--arch`, random weights, seed 0: the same network
tools/models/export_torchvision.py writes for octet), a YOLOv8 detector written as PyTorch modules with an
ultralytics export's weights (`--yolov8`, tools/bench/yolov8_torch.py: the same network as the ONNX file, which
torch.compile can trace), or an ONNX file converted to PyTorch modules by
onnx2torch (`--onnx`; the same graph octet runs, e.g. a YOLOv8n export, with its input fixed to each batch size and
its shape arithmetic folded by ONNX Runtime, see static_onnx; `--onnx2torch-wheel` puts a downloaded wheel on the
path where the package is not installed). Eval mode, float16 weights and
activations, torch.channels_last, cudnn.benchmark, under torch.inference_mode(); TF32 off (it does not
touch FP16 math).

Modes: `eager`, and `compile` = torch.compile(model) in its default mode (inductor), compiled once per
batch size (static shapes) before the warm-up. Timing: a device-resident random batch, `--warmup`
untimed forwards, then `--iters` forwards each bracketed by CUDA events on the current stream; the
median per-forward time is reported (images/s = batch / median).
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch


def load_model(args, batch, sample):
    if args.arch:
        import torchvision
        torch.manual_seed(args.seed)
        return getattr(torchvision.models, args.arch)(weights=None), f"torchvision {args.arch} (random weights)"
    if args.yolov8:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from yolov8_torch import load_yolov8
        return load_yolov8(args.yolov8), f"yolov8_torch({args.yolov8})"
    if args.onnx2torch_wheel:
        sys.path.insert(0, args.onnx2torch_wheel)  # a pure-Python wheel imports from the zip as it is
    import onnx
    from onnx2torch import convert
    return convert(onnx.load(static_onnx(args.onnx, batch, sample))), f"onnx2torch({args.onnx}, shapes folded)"


def static_onnx(path, batch, sample):
    """`path` with its input fixed to [batch, *sample] and its shape arithmetic folded to constants by ONNX Runtime's
    basic optimizations (constant folding, standard ONNX ops only). Why: torch.compile cannot trace the modules
    onnx2torch makes of shape sub-graphs (YOLOv8's head: Shape -> Range -> Reshape gives an
    InternalTorchDynamoError), and octet itself folds them once --shapes fixes the input."""
    import os
    import tempfile

    import onnx
    import onnxruntime as ort
    m = onnx.load(path)
    for d, v in zip(m.graph.input[0].type.tensor_type.shape.dim, [batch, *sample]):
        d.ClearField("dim_param")
        d.dim_value = v
    folder = tempfile.mkdtemp(prefix="pytorch_models_")
    fixed, folded = os.path.join(folder, "fixed.onnx"), os.path.join(folder, "folded.onnx")
    onnx.save(m, fixed)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = folded
    ort.InferenceSession(fixed, options, providers=["CPUExecutionProvider"])
    return folded


def time_forwards(model, x, warmup, iters):
    for _ in range(warmup):
        model(x)
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        starts[i].record()
        model(x)
        ends[i].record()
    torch.cuda.synchronize()
    return sorted(s.elapsed_time(e) for s, e in zip(starts, ends))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--arch", help="torchvision architecture, e.g. mobilenet_v2, efficientnet_b0, resnet50")
    src.add_argument("--yolov8", help="an ultralytics YOLOv8 detection export, run as tools/bench/yolov8_torch.py")
    src.add_argument("--onnx", help="an ONNX model, converted with onnx2torch")
    ap.add_argument("--onnx2torch-wheel", help="path of an onnx2torch wheel to import from")
    ap.add_argument("--input-shape", default="3x224x224", help="one sample's dims CxHxW (default 3x224x224)")
    ap.add_argument("--batch-sizes", default="1,32", help="comma-separated batch sizes (default 1,32)")
    ap.add_argument("--modes", default="eager,compile", help="comma-separated: eager, compile (default both)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed forwards per batch size (default 20)")
    ap.add_argument("--iters", type=int, default=100, help="timed forwards per batch size (default 100)")
    ap.add_argument("--name", help="model name in the JSON lines (default: --arch or the ONNX file name)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    if not torch.cuda.is_available():
        sys.exit("pytorch_models.py: CUDA is not available")
    batches = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    modes = [m for m in args.modes.split(",") if m]
    sample = [int(d) for d in args.input_shape.lower().split("x")]
    if not batches or min(batches) < 1 or args.iters < 1 or args.warmup < 0 or len(sample) != 3:
        sys.exit("pytorch_models.py: batch sizes and --iters must be >= 1, --warmup >= 0, --input-shape CxHxW")
    if set(modes) - {"eager", "compile"}:
        sys.exit(f"pytorch_models.py: unknown mode in {modes} (eager, compile)")

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    name = args.name or args.arch or (args.yolov8 or args.onnx).rsplit("/", 1)[-1]
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    with torch.inference_mode():
        for b in batches:
            # A model per batch size: an ONNX graph is specialised to it (static_onnx).
            model, what = load_model(args, b, sample)
            model = model.eval().to(device=dev, dtype=torch.float16, memory_format=torch.channels_last)
            common = {"model": name, "source": what, "device": torch.cuda.get_device_name(dev),
                      "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(), "dtype": "float16",
                      "channels_last": True}
            x = torch.randn(b, *sample, device=dev, generator=gen).to(dtype=torch.float16,
                                                                     memory_format=torch.channels_last)
            for mode in modes:
                row = {"peer": f"pytorch-fp16-{mode}", "batch": b, **common}
                try:
                    run = model
                    if mode == "compile":
                        torch._dynamo.reset()
                        t0 = time.time()
                        run = torch.compile(model)
                        run(x)
                        torch.cuda.synchronize()
                        row["compile_s"] = round(time.time() - t0, 1)
                    ms = time_forwards(run, x, args.warmup, args.iters)
                except Exception as e:  # a peer that cannot run is a row that says why, not a crash
                    row["error"] = f"{type(e).__name__}: {e}"[:400]
                    print(json.dumps(row), flush=True)
                    continue
                median = statistics.median(ms)
                row.update({"images_per_s": round(b * 1000.0 / median, 1), "median_ms": round(median, 4),
                            "min_ms": round(ms[0], 4), "mean_ms": round(statistics.fmean(ms), 4),
                            "iters": args.iters, "warmup": args.warmup})
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
