#!/usr/bin/env python3
"""Reference range selection for octet's tests, written from the published descriptions, not from
octet's C++:

  max         the observed abs-max.
  entropy     TensorRT's calibration (Szymon Migacz, "8-bit Inference with TensorRT", GTC 2017):
              for i in 128..2048 bins kept, reference P = the first i bins with every count beyond
              them added to bin i-1 (bin 0 first set to bin 1's count, as NVIDIA's pytorch-quantization
              does for the zeros after a ReLU); candidate Q = the first i bins quantized into 128 levels and
              expanded back, each level's sum shared by its non-empty bins only; the i minimising
              KL(P || Q) wins (first one on a tie), threshold (i + 0.5) * bin width.
  percentile  the upper edge of the first bin where the cumulative count reaches p % of the total.
  mse         the upper bin edge, at least 128 bins, minimising the expected squared error of
              symmetric INT8 quantize-dequantize of the bin centres (first one on a tie).

Input (JSON, from the file named on the command line or stdin):
  {"histograms": [{"name": str, "range_bits": uint32, "absmax_bits": uint32,
                   "counts": [2048 ints], "percentiles": [float, ...]}, ...]}
float32 values travel as their IEEE-754 bit patterns, so nothing is lost in decimal.
Output (JSON on stdout): {"results": [{"name", "max_bits", "entropy": {"bin", "amax_bits"},
  "mse": {"bin", "amax_bits"}, "percentile": [{"p", "bin", "amax_bits"}, ...]}, ...]}
"bin" is the winning i as described above (-1 when the histogram holds no data).
"""
import json
import sys

try:
    import numpy as np
except ImportError:
    sys.stderr.write("reference_ranges.py: NumPy is not installed for %s "
                     "(Debian: apt-get install python3-numpy)\n" % sys.executable)
    sys.exit(3)

NUM_BINS = 2048
LEVELS = 128  # int8 magnitudes 0..127


def f32_from_bits(bits):
    return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])


def bits_of_f32(value):
    return int(np.array([value], dtype=np.float32).view(np.uint32)[0])


def amax_bits(range_, bins_times_two):
    """float32 of (bins_times_two / 2) * range / 2048, rounded once."""
    return bits_of_f32(np.float64(bins_times_two) / 2.0 * (np.float64(range_) / NUM_BINS))


def kl_divergence(p, q):
    """KL(p || q) of two unnormalised distributions; inf where q = 0 and p > 0."""
    p = p / p.sum()
    q = q / q.sum()
    support = p > 0
    if np.any(q[support] == 0):
        return np.inf
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def entropy_bin(counts):
    hist = counts.astype(np.float64)
    if hist[0] != hist.sum():
        hist[0] = hist[1]  # the spike of exact zeros after a ReLU (calibration/range_selection.h)
    best_i, best_kl = -1, np.inf
    for i in range(LEVELS, NUM_BINS + 1):
        p = hist[:i].copy()
        p[i - 1] += hist[i:].sum()
        kept = hist[:i]
        # Level of each kept bin: groups of i // 128 bins, the remainder joining the last level.
        level = np.minimum(np.arange(i) // (i // LEVELS), LEVELS - 1)
        nonempty = kept > 0
        level_sum = np.bincount(level, weights=kept, minlength=LEVELS)
        level_nonempty = np.bincount(level, weights=nonempty.astype(np.float64), minlength=LEVELS)
        q = np.zeros(i)
        q[nonempty] = level_sum[level[nonempty]] / level_nonempty[level[nonempty]]
        if q.sum() == 0:
            continue  # every count is an outlier: q = 0 where p > 0
        kl = kl_divergence(p, q)
        if kl < best_kl:
            best_i, best_kl = i, kl
    return best_i


def percentile_bin(counts, p):
    cumulative = np.cumsum(counts.astype(np.float64))
    reached = 100.0 * cumulative >= p * float(counts.sum())
    return int(np.argmax(reached))


def mse_bin(counts):
    # Unit u = bin width / 254: a bin centre (k + 1/2) * width = (2k + 1) * 127 u and a candidate
    # amax = a bins gives scale amax / 127 = 2a u; everything below is an exact integer.
    nonempty = np.flatnonzero(counts)
    centre = (2 * nonempty.astype(np.int64) + 1) * 127          # [bins]
    a = np.arange(LEVELS, NUM_BINS + 1, dtype=np.int64)[:, None]  # [candidates, 1]
    step = 2 * a
    # x / scale is never within rounding distance of a half it does not equal, so float64 rint
    # (round half to even) gives the exact integer level.
    level = np.minimum(np.rint(centre / step), 127).astype(np.int64)
    err2 = (centre - level * step) ** 2                          # [candidates, bins], < 2^39
    # sum(count * err2) exceeds int64 for large counts: split the counts into 12-bit limbs, each
    # limb product summed over at most 2048 bins stays below 2^62, and recombine as Python ints.
    c = counts[nonempty].astype(np.uint64)
    total = [0] * a.shape[0]
    for shift in range(0, 64, 12):
        limb = ((c >> np.uint64(shift)) & np.uint64(0xFFF)).astype(np.int64)
        partial = err2 @ limb
        total = [t + (int(s) << shift) for t, s in zip(total, partial)]
    best = min(range(len(total)), key=lambda j: (total[j], j))  # first one on a tie
    return int(a[best, 0]) - 1  # the bin whose upper edge is amax


def evaluate(h):
    counts = np.array(h["counts"], dtype=np.uint64)
    if counts.size != NUM_BINS:
        raise SystemExit("reference_ranges.py: histogram %r has %d bins, expected %d"
                         % (h["name"], counts.size, NUM_BINS))
    range_ = f32_from_bits(h["range_bits"])
    out = {"name": h["name"], "max_bits": h["absmax_bits"]}
    has_data = range_ > 0 and counts.sum() > 0
    if not has_data:
        zero = {"bin": -1, "amax_bits": 0}
        out["entropy"] = zero
        out["mse"] = zero
        out["percentile"] = [dict(zero, p=p) for p in h["percentiles"]]
        return out
    i = entropy_bin(counts)
    out["entropy"] = {"bin": i, "amax_bits": amax_bits(range_, 2 * i + 1)}
    i = mse_bin(counts)
    out["mse"] = {"bin": i, "amax_bits": amax_bits(range_, 2 * (i + 1))}
    out["percentile"] = []
    for p in h["percentiles"]:
        i = percentile_bin(counts, p)
        out["percentile"].append({"p": p, "bin": i, "amax_bits": amax_bits(range_, 2 * (i + 1))})
    return out


def main():
    source = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    histograms = json.load(source)["histograms"]
    json.dump({"results": [evaluate(h) for h in histograms]}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
