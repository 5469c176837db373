#!/usr/bin/env python3
"""Packs a subset of the zoo for one device call: .carry/<name>/{models,images} as build/zoo has them.

    python3 tools/gpu/pack_zoo_carry.py --only id,id,... --out .carry/zoo_a [--images 40]

The device tool carries 64 MiB a call (the tracked tree ~7 MiB and the slim bundle ~13 of it), and the zoo's importable models are
~290 MB with their ONNX Runtime references: so the zoo goes over in several calls, each carrying a few
models and only the images check_zoo.py reads (its image pool: the first --images files of the model's own
image set in name order, filled from the other sets when short, plus the model's reference image). The references
are not carried: the GPU machine has the same ONNX Runtime (1.30) and makes them there
(run-real-models.sh, ort_reference.py). Prints the size and refuses a pack over --limit MiB.
"""

import argparse
import json
import os
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "models", "zoo"))
from check_zoo import IMAGE_FILL  # noqa: E402  (the order check_zoo fills a short image pool in)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", required=True, help="comma-separated model ids of models/zoo/manifest.json")
    ap.add_argument("--out", required=True, help="folder to write (replaced)")
    ap.add_argument("--cache", default=os.path.join(REPO, "build", "zoo"), help="zoo cache (default build/zoo)")
    ap.add_argument("--images", type=int, default=40, help="files per image set (default 40: 24 compared + 16 calibration)")
    ap.add_argument("--limit", type=float, default=42.0, help="MiB the pack may take (default 42: a call carries 64 MiB, the bundle ~13 and the tracked tree ~7)")
    args = ap.parse_args()

    with open(os.path.join(REPO, "models", "zoo", "manifest.json")) as f:
        manifest = {m["id"]: m for m in json.load(f)["models"]}
    ids = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [i for i in ids if i not in manifest]
    if unknown:
        sys.exit("unknown model id(s): " + ", ".join(unknown))

    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "models"))
    for i in ids:
        for suffix in (".onnx", ".onnx.sha256"):
            src = os.path.join(args.cache, "models", i + suffix)
            if os.path.isfile(src):
                shutil.copy2(src, os.path.join(tmp, "models"))
            elif suffix == ".onnx":
                sys.exit("%s missing (run tools/models/zoo/fetch_zoo.py)" % src)

    # The files check_zoo's image pool takes: the model's own set in name order, then the IMAGE_FILL sets
    # while the pool is short; and the model's reference image.
    images = os.path.join(args.cache, "images")
    take = {}
    for i in ids:
        own = manifest[i]["image_set"]
        pool = 0
        for s in [own] + [f for f in IMAGE_FILL if f != own]:
            names = sorted(f for f in os.listdir(os.path.join(images, s)) if not f.endswith(".part"))
            names = names[:args.images - pool]
            take.setdefault(s, set()).update(names)
            pool += len(names)
            if pool >= args.images:
                break
        if manifest[i].get("reference_image"):
            take[own].add(manifest[i]["reference_image"])
    for s, names in take.items():
        os.makedirs(os.path.join(tmp, "images", s))
        for n in names:
            shutil.copy2(os.path.join(images, s, n), os.path.join(tmp, "images", s, n))
    if os.path.isfile(os.path.join(images, "index.json")):
        shutil.copy2(os.path.join(images, "index.json"), os.path.join(tmp, "images"))

    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tmp) for f in fs) / 2**20
    if size > args.limit:
        shutil.rmtree(tmp)
        sys.exit("%s would take %.1f MiB, over --limit %.0f: carry fewer models" % (args.out, size, args.limit))
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(tmp, args.out)
    print("%s: %d models, %.1f MiB" % (args.out, len(ids), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
