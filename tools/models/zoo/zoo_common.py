"""Shared helpers for the zoo tools that need onnx/numpy (op_census.py, ort_reference.py, update_manifest.py).

Run them with the venv from tools/models/zoo/requirements.txt. fetch_zoo.py and fetch_images.py do not import this.
"""

import json
import math
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MANIFEST = os.path.join(REPO, "models", "zoo", "manifest.json")
CACHE = os.path.join(REPO, "build", "zoo")


def load_manifest(path=MANIFEST):
    with open(path) as f:
        return json.load(f)


def save_manifest(manifest, path=MANIFEST):
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")


def model_path(model, cache=CACHE):
    return os.path.join(cache, "models", model["id"] + ".onnx")


def select(models, ci=False, only=None):
    if ci:
        models = [m for m in models if m.get("ci")]
    if only:
        ids = [s.strip() for s in only.split(",") if s.strip()]
        unknown = set(ids) - {m["id"] for m in models}
        if unknown:
            raise SystemExit("unknown or unselected model id(s): " + ", ".join(sorted(unknown)))
        models = [m for m in models if m["id"] in ids]
    return models


def dims_of(value_info):
    """Declared dims: int for a fixed dim, the dim_param string for a named dynamic dim, '?' for an unnamed one."""
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param"):
            out.append(d.dim_param)
        else:
            out.append("?")
    return out


def graph_inputs(model_proto):
    inits = {i.name for i in model_proto.graph.initializer}
    return [i for i in model_proto.graph.input if i.name not in inits]


def apply_run_shapes(model_proto, run_shapes):
    """For models whose declared input dims are fixed placeholders (CenterFace ships 10x3x32x32): sets each input's
    dims to the run shape and makes every graph output's dims symbolic, and drops stale value_info, so ONNX Runtime
    infers the shapes again. Returns True when something changed."""
    changed = False
    for vi in graph_inputs(model_proto):
        want = run_shapes.get(vi.name)
        if want is None:
            continue
        dims = vi.type.tensor_type.shape.dim
        fixed = [(d.dim_value, v) for d, v in zip(dims, want) if d.HasField("dim_value") and d.dim_value > 0]
        if any(a != b for a, b in fixed):
            for d, v in zip(dims, want):
                d.Clear()
                d.dim_value = int(v)
            changed = True
    if changed:
        for o in model_proto.graph.output:
            for i, d in enumerate(o.type.tensor_type.shape.dim):
                d.Clear()
                d.dim_param = "%s_d%d" % (o.name, i)
        del model_proto.graph.value_info[:]
    return changed


# ----------------------------------------------------------------------------------------------------------------
# Preprocessing, exactly as written in the manifest (see docs/model_zoo.md, "Preprocessing").

def _interp(name):
    import cv2
    from PIL import Image
    table = {
        "cv2.INTER_LINEAR": ("cv2", cv2.INTER_LINEAR), "cv2.INTER_AREA": ("cv2", cv2.INTER_AREA),
        "cv2.INTER_CUBIC": ("cv2", cv2.INTER_CUBIC), "cv2.INTER_LANCZOS4": ("cv2", cv2.INTER_LANCZOS4),
        "cv2.INTER_NEAREST": ("cv2", cv2.INTER_NEAREST),
        "PIL.BILINEAR": ("pil", Image.Resampling.BILINEAR), "PIL.BICUBIC": ("pil", Image.Resampling.BICUBIC),
        "PIL.LANCZOS": ("pil", Image.Resampling.LANCZOS), "PIL.NEAREST": ("pil", Image.Resampling.NEAREST),
    }
    if name not in table:
        raise ValueError("unknown interpolation " + name)
    return table[name]


def resize(img, w, h, interpolation):
    """img: HxWxC uint8. Resizes to w x h with OpenCV or Pillow as the manifest names it."""
    import cv2
    import numpy as np
    from PIL import Image
    lib, flag = _interp(interpolation)
    if lib == "cv2":
        out = cv2.resize(img, (int(w), int(h)), interpolation=flag)
    else:
        mode = "L" if img.shape[2] == 1 else "RGB"
        pil = Image.fromarray(img[:, :, 0] if mode == "L" else img, mode)
        out = np.asarray(pil.resize((int(w), int(h)), flag))
    if out.ndim == 2:
        out = out[:, :, None]
    return out


def load_image(path, color):
    """Returns HxWxC uint8 in the requested channel order: 'rgb', 'bgr', 'gray' (C=1) or 'gray3' (gray in 3 channels).
    Images with alpha are composited on mid-gray (128) first."""
    import numpy as np
    from PIL import Image
    im = Image.open(path)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (128, 128, 128, 255))
        bg.alpha_composite(im)
        im = bg
    rgb = np.asarray(im.convert("RGB"))
    if color == "rgb":
        return rgb.copy()
    if color == "bgr":
        return rgb[:, :, ::-1].copy()
    gray = np.asarray(Image.fromarray(rgb).convert("L"))[:, :, None]
    if color == "gray":
        return gray.copy()
    if color == "gray3":
        return np.repeat(gray, 3, axis=2)
    raise ValueError("unknown color " + color)


def preprocess(path, model):
    """Returns the float32 input tensor at the model's run shape (single input models)."""
    import numpy as np
    pp = model["preprocessing"]
    (name, shape), = model["run_shapes"].items()
    layout = pp["layout"]
    if layout == "NCHW":
        H, W = shape[2], shape[3]
    elif layout == "NHWC":
        H, W = shape[1], shape[2]
    elif layout == "NWHC":
        W, H = shape[1], shape[2]
    else:
        raise ValueError(layout)
    img = load_image(path, pp["color"])
    h, w = img.shape[:2]
    rz = pp["resize"]
    mode = rz["mode"]
    pad_after = rz.get("pad_after_normalize", False)
    valid = None  # (h, w) region holding the image when padding happens after normalization
    if mode == "stretch":
        img = resize(img, W, H, rz["interpolation"])
    elif mode == "letterbox":
        r = min(H / h, W / w)
        nw, nh = max(1, int(w * r)), max(1, int(h * r))
        small = resize(img, nw, nh, rz["interpolation"])
        canvas = np.full((H, W, img.shape[2]), rz["pad_value"], dtype=np.uint8)
        if rz["align"] == "center":
            y0, x0 = (H - nh) // 2, (W - nw) // 2
        else:
            y0, x0 = 0, 0
        canvas[y0:y0 + nh, x0:x0 + nw] = small
        img = canvas
    elif mode == "short_side_center_crop":
        s = rz["short_side"] / min(h, w)
        nw, nh = int(round(w * s)), int(round(h * s))
        img = resize(img, nw, nh, rz["interpolation"])
        y0, x0 = (nh - H) // 2, (nw - W) // 2
        img = img[y0:y0 + H, x0:x0 + W]
    elif mode == "stretch_center_crop":
        rw, rh = rz["resize_to"]
        img = resize(img, rw, rh, rz["interpolation"])
        y0, x0 = (rh - H) // 2, (rw - W) // 2
        img = img[y0:y0 + H, x0:x0 + W]
    elif mode == "height_keep_ratio_pad_right":
        rw = min(W, int(math.ceil(H * w / float(h))))
        img = resize(img, rw, H, rz["interpolation"])
        valid = (H, rw)
    elif mode == "long_side_pad":
        r = rz["max_len"] / max(h, w)
        nw, nh = max(1, int(w * r)), max(1, int(h * r))
        img = resize(img, nw, nh, rz["interpolation"])
        valid = (nh, nw)
    else:
        raise ValueError("unknown resize mode " + mode)

    x = img.astype(np.float32)
    scale = pp["scale"]
    if scale == "1/max":
        x = x / np.float32(x.max())
    else:
        x = x * np.float32(scale)
    mean = np.asarray(pp["mean"], dtype=np.float32)
    std = np.asarray(pp["std"], dtype=np.float32)
    x = (x - mean) / std
    if valid is not None:
        full = np.full((H, W, x.shape[2]), rz.get("pad_value", 0.0), dtype=np.float32)
        full[:valid[0], :valid[1]] = x
        x = full
    if layout == "NCHW":
        x = x.transpose(2, 0, 1)
    elif layout == "NWHC":
        x = x.transpose(1, 0, 2)
    x = np.ascontiguousarray(x[None], dtype=np.float32)
    if list(x.shape) != list(shape):
        raise AssertionError("%s: preprocessed shape %s != run shape %s" % (model["id"], x.shape, shape))
    return {name: x}


def set_files(set_dir):
    """The image files of a fetched set, sorted by name."""
    return [os.path.join(set_dir, f) for f in sorted(os.listdir(set_dir)) if not f.endswith(".part")]


def split_image_set(set_dir, n_calib, n_compare=0):
    """Disjoint calibration and comparison images of one set (check_zoo.py --image-set, ort_peer.py): n_calib
    files evenly spread over the sorted names (on a set sorted by class or by source, every class and source
    in both halves), then the first n_compare of the others (0: all). Returns (calib, compare, stride), the
    stride an int, or the mean spacing of the positions below.
    Where the set holds at least 2 * n_calib files, every len // n_calib-th from the first (the selection the
    ImageNet and text-line figures in docs/ were measured with); on a smaller set that integer stride is 1
    and would take the first n_calib names (on the 23 text images: the 6 OpenCV sample images and the 6
    scene photographs, leaving the 11 word crops and pages to be compared unseen): there the i-th takes
    position floor(i * len / n_calib)."""
    files = set_files(set_dir)
    n = min(n_calib, len(files))
    stride = max(1, len(files) // max(1, n))
    if stride >= 2:
        calib = files[::stride][:n]
    else:
        calib = [files[i * len(files) // n] for i in range(n)]
        stride = round(len(files) / max(1, n), 2)  # the mean spacing
    chosen = set(calib)
    rest = [f for f in files if f not in chosen]
    return calib, (rest[:n_compare] if n_compare > 0 else rest), stride


def image_labels(kind, set_dir, files):
    """True class index per file for a labelled set (manifest image_sets.<set>.labels), or None. "imagenet_synset":
    the name after the source prefix starts with the WordNet id (imagenet__n01440764_tench.JPEG) and the sorted
    synsets of the whole set are the standard ImageNet-1k class index (0 = n01440764 tench, ..., 999).
    "text_orientation": class 1 for a crop turned by 180 degrees (name ending _r180), else 0."""
    if kind == "text_orientation":  # PP-OCR's orientation classes: 0 = upright, 1 = turned by 180 degrees
        return [1 if os.path.splitext(f)[0].endswith("_r180") else 0 for f in files]
    if kind != "imagenet_synset":
        return None
    wnid = lambda f: os.path.basename(f).split("__", 1)[-1].split("_", 1)[0]  # noqa: E731
    synsets = sorted({wnid(f) for f in set_files(set_dir)})
    if len(synsets) != 1000:
        raise ValueError("%s has %d synsets, not ImageNet's 1000" % (set_dir, len(synsets)))
    index = {w: i for i, w in enumerate(synsets)}
    return [index[wnid(f)] for f in files]
