#!/usr/bin/env python3
"""PyTorch peer for octet's ResNet-50 benchmarks.

    python3 tools/bench/pytorch_resnet50.py [--batch-sizes 1,32,128] [--warmup 20] [--iters 100]
    python3 tools/bench/pytorch_resnet50.py --channels-last --fp16      # the peer for INT8 comparisons

torchvision resnet50(weights=None) (random weights, seed 0), eval mode, under torch.inference_mode().
Default: FP32 with TF32 OFF (torch.backends.cuda.matmul.allow_tf32 = False, torch.backends.cudnn.allow_tf32 =
False), NCHW. --fp16 casts model and input to float16; --channels-last uses torch.channels_last for both.
cudnn.benchmark = True. For each batch size: a device-resident random batch, `--warmup` untimed forwards, then
`--iters` forwards, each bracketed by CUDA events on the current stream (so a launch-bound forward is timed
with its launch gaps); the median of those per-forward times is reported.

Prints one JSON line per batch size:
  {"peer": "pytorch-fp32", "batch": B, "images_per_s": ..., "median_ms": ..., "min_ms": ..., "mean_ms": ...,
   "p90_ms": ..., "iters": N, "device": "...", "torch": "...", ...}
"""

import argparse
import json
import statistics
import sys

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-sizes", default="1,32,128", help="comma-separated batch sizes (default 1,32,128)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed forwards per batch size (default 20)")
    ap.add_argument("--iters", type=int, default=100, help="timed forwards per batch size (default 100)")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format (torch.channels_last)")
    ap.add_argument("--fp16", action="store_true", help="float16 weights and activations")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    if not torch.cuda.is_available():
        sys.exit("pytorch_resnet50.py: CUDA is not available")
    batches = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    if not batches or min(batches) < 1 or args.iters < 1 or args.warmup < 0:
        sys.exit("pytorch_resnet50.py: batch sizes and --iters must be >= 1, --warmup >= 0")

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True

    dev = torch.device("cuda")
    dtype = torch.float16 if args.fp16 else torch.float32
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    peer = "pytorch-" + ("fp16" if args.fp16 else "fp32") + ("-channels-last" if args.channels_last else "")

    torch.manual_seed(args.seed)
    model = torchvision.models.resnet50(weights=None).eval().to(device=dev, dtype=dtype, memory_format=fmt)
    common = {"device": torch.cuda.get_device_name(dev), "torch": torch.__version__,
              "torchvision": torchvision.__version__, "cudnn": torch.backends.cudnn.version(),
              "dtype": str(dtype).replace("torch.", ""), "channels_last": args.channels_last,
              "tf32": False, "cudnn_benchmark": True}

    gen = torch.Generator(device=dev).manual_seed(args.seed)
    with torch.inference_mode():
        for b in batches:
            x = torch.randn(b, 3, 224, 224, device=dev, generator=gen).to(dtype=dtype, memory_format=fmt)
            for _ in range(args.warmup):
                model(x)
            torch.cuda.synchronize()
            starts = [torch.cuda.Event(enable_timing=True) for _ in range(args.iters)]
            ends = [torch.cuda.Event(enable_timing=True) for _ in range(args.iters)]
            for i in range(args.iters):
                starts[i].record()
                model(x)
                ends[i].record()
            torch.cuda.synchronize()
            ms = sorted(s.elapsed_time(e) for s, e in zip(starts, ends))
            median = statistics.median(ms)
            p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
            print(json.dumps({"peer": peer, "batch": b, "images_per_s": round(b * 1000.0 / median, 1),
                              "median_ms": round(median, 4), "min_ms": round(ms[0], 4),
                              "mean_ms": round(statistics.fmean(ms), 4), "p90_ms": round(p90, 4),
                              "iters": args.iters, "warmup": args.warmup, **common}), flush=True)
            del x


if __name__ == "__main__":
    main()
