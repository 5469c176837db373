#!/usr/bin/env bash
# Calibration benchmark on the GPU machine (run from the repository root after build-bundle.sh here):
# entropy calibration of ResNet-50 (torchvision, random weights) on 500 RGB 224x224 images, octet
# (CUDA backend, all activations, two passes) against ONNX Runtime's calibrator
# (create_calibrator, Entropy; onnxruntime there is the CPU build, 16 cores) in the same call.
# Both read the same uint8 HDF5 file and preprocess it the same way (x/255, ImageNet mean/std);
# times are end to end (process start to cache written), measured with `date` around each command.
set -euo pipefail
bundle=.carry/gpu
export LD_LIBRARY_PATH="$PWD/$bundle/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp/octet-out}
mkdir -p "$out"
images=${OCTET_CALIB_IMAGES:-500}
model=/tmp/resnet50.onnx
data=/tmp/calib_${images}.h5
[ -f "$model" ] || python3 tools/models/export_resnet50.py "$model" >"$out/export.log" 2>&1
# Smooth random pictures (a few blurred blobs each), seeded: activations with realistic spread.
python3 - "$data" "$images" <<'PY'
import sys, numpy as np, h5py
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:224, 0:224].astype(np.float32)
imgs = np.empty((n, 224, 224, 3), np.uint8)
for i in range(n):
    img = np.full((224, 224, 3), rng.uniform(40, 200, 3), np.float32)
    for _ in range(6):
        cy, cx, r = rng.uniform(0, 224, 2).tolist() + [rng.uniform(15, 70)]
        img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None] * rng.uniform(-120, 120, 3)
    img += rng.normal(0, 8, img.shape)
    imgs[i] = np.clip(img, 0, 255)
with h5py.File(path, "w") as f:
    d = f.create_dataset("images", data=imgs)
    d.attrs["layout"] = "NHWC"
    d.attrs["channel_order"] = "rgb"
PY
pre=(--channel-order rgb --scale 1/255 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225)
t0=$(date +%s.%N)
"$bundle/bin/octet" calibrate "$model" --data "$data" "${pre[@]}" --method entropy --backend cuda --batch 50 \
  --cache /tmp/octet_r50.cache --table /tmp/octet_r50.json 2>"$out/octet_calibrate.log" | tee "$out/octet_calibrate.txt"
t1=$(date +%s.%N)
python3 tools/peers/ort_calibrate.py "$model" --data "$data" --images "$images" --method entropy --batch 50 \
  --scale 0.00392156862745098 --mean 0.485 0.456 0.406 --std 0.229 0.224 0.225 >/tmp/ort_r50.json 2>"$out/ort.log"
t2=$(date +%s.%N)
python3 - "$t0" "$t1" "$t2" "$images" <<'PY'
import sys, json
t0, t1, t2, n = map(float, sys.argv[1:])
ort = json.load(open("/tmp/ort_r50.json"))
octet_s, ort_s = t1 - t0, t2 - t1
print(json.dumps({"benchmark": "entropy calibration ResNet-50", "images": int(n), "octet_s": round(octet_s, 2),
                  "ort_s": round(ort_s, 2), "ort_inner_s": round(ort["seconds"], 2),
                  "speedup": round(ort_s / octet_s, 1), "ort_tensors": len(ort["tensors"]),
                  "onnxruntime": ort["onnxruntime"]}))
PY
cp /tmp/octet_r50.json /tmp/ort_r50.json "$out/" 2>/dev/null || true
