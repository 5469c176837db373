#!/usr/bin/env python3
"""Makes the `text_lines` image set: real text-line crops cut from the zoo's text photographs, the input
the text-orientation classifiers (ppocr_cls_mobile_v2, ppocr_cls_v5) are made for.

    build/zoo-venv/bin/python tools/models/zoo/make_text_lines.py [--cache build/zoo] [--max-side 960]

The zoo's `text` set holds 23 whole photographs and pages; an orientation classifier shown a whole page
is unsure (FP32 top probability 0.5-0.65 on most), so agreement measured there says little about INT8.
PaddleOCR runs the classifier on the crops its detector finds; this script does the same with the
zoo's PP-OCRv4 detector in ONNX Runtime: each photograph resized keeping its aspect ratio (each side a
multiple of 32, the longer at most --max-side, as rapidocr does), the probability map thresholded at
0.3 (PaddleOCR's), each connected region's bounding box grown by DBNet's unclip rule (distance
area * 1.5 / perimeter) and cut from the photograph. Lines lower than 10 pixels or taller than wide
are dropped. Every crop is written as it is and turned by 180 degrees (`*_r180.png`), so both classes
are present. Writes build/zoo/images/text_lines/ (replaced) and prints the count.
"""

import argparse
import math
import os
import shutil
import sys

import cv2
import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def detector_input(img, max_side):
    h, w = img.shape[:2]
    r = min(1.0, max_side / max(h, w))
    nh, nw = (max(32, int(round(h * r / 32)) * 32), max(32, int(round(w * r / 32)) * 32))
    x = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    x = (x - 0.5) / 0.5
    return x.transpose(2, 0, 1)[None], nh / h, nw / w


def line_boxes(prob):
    """Axis-aligned boxes (x0, y0, x1, y1) in map pixels of the regions above 0.3, unclipped."""
    mask = (prob > 0.3).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if w < 2 or h < 2:
            continue
        d = w * h * 1.5 / (2.0 * (w + h))  # DBNet's unclip distance for ratio 1.5
        boxes.append((x - d, y - d, x + w + d, y + h + d))
    return boxes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.join(REPO, "build", "zoo"), help="zoo cache (default build/zoo)")
    ap.add_argument("--detector", default="ppocr_det_v4", help="zoo id of the DB text detector (default ppocr_det_v4)")
    ap.add_argument("--max-side", type=int, default=960, help="longer side of the detector input (default 960)")
    ap.add_argument("--sets", default="text,imagenet", help="image sets to cut lines from (default text,imagenet)")
    args = ap.parse_args()

    sources = [os.path.join(args.cache, "images", s) for s in args.sets.split(",") if s]
    model = os.path.join(args.cache, "models", args.detector + ".onnx")
    for path in sources + [model]:
        if not os.path.exists(path):
            sys.exit("%s missing (tools/models/zoo/fetch_zoo.py and fetch_images.py make it)" % path)
    out = os.path.join(args.cache, "images", "text_lines")
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    count = 0
    for f in [os.path.join(d, f) for d in sources for f in sorted(os.listdir(d))]:
        img = cv2.imread(f, cv2.IMREAD_COLOR)
        if img is None:
            continue
        x, sy, sx = detector_input(img, args.max_side)
        prob = session.run(None, {name: x})[0][0, 0]
        stem = os.path.basename(os.path.dirname(f)) + "__" + os.path.splitext(os.path.basename(f))[0]
        for i, (x0, y0, x1, y1) in enumerate(line_boxes(prob)):
            h, w = img.shape[:2]
            c0, r0 = max(0, int(math.floor(x0 / sx))), max(0, int(math.floor(y0 / sy)))
            c1, r1 = min(w, int(math.ceil(x1 / sx))), min(h, int(math.ceil(y1 / sy)))
            if r1 - r0 < 10 or c1 - c0 < r1 - r0:
                continue
            crop = img[r0:r1, c0:c1]
            cv2.imwrite(os.path.join(tmp, "%s_%03d.png" % (stem, i)), crop)
            cv2.imwrite(os.path.join(tmp, "%s_%03d_r180.png" % (stem, i)), cv2.rotate(crop, cv2.ROTATE_180))
            count += 1
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print("%s: %d text lines from %s, %d images with the 180-degree copies" % (out, count, args.sets, 2 * count))


if __name__ == "__main__":
    main()
