#!/usr/bin/env bash
# Runs on the GPU machine from the repository root: the real-models acceptance that needs a GPU.
#   zoo    the CUDA-facing tests of the bundle (test_ops, test_cuda_backend, test_int8_kernels_cuda),
#          then tools/models/zoo/check_zoo.py --cuda on the carried zoo models: FP32 on CUDA against ONNX
#          Runtime's references, calibration on the CUDA backend, and the CPU and CUDA INT8 engines built
#          from that cache compared bit for bit on real images (the INT8 metric against FP32 besides).
#   speed  the speed table of BENCHMARKS.md, batch 1 and 32: octet INT8 plan, octet FP32 and PyTorch FP16
#          channels-last (eager, torch.compile) for YOLOv8n at 640x640 (the zoo's model; PyTorch runs the
#          same network and weights as tools/bench/yolov8_torch.py's modules), MobileNetV2 and EfficientNet-B0 (torchvision, random weights,
#          exported there by tools/models/export_torchvision.py; calibrated --method max on random images:
#          speed depends on the shapes, not on the weights).
#          After each INT8 bench, tools/gpu/profile_summary.py's tables (time per kind of layer, the
#          slowest layers and their TB/s) go into speed.txt.
#   repro  (after speed) YOLOv8n's INT8 plan at batch 32 with and without --reproducible.
# Here, before the call (the device tool carries at most 64 MiB):
#   OCTET_BUNDLE_SLIM=1 tools/gpu/build-bundle.sh
#   zoo: models, references and image sets under .carry/zoo as build/zoo has them (models/<id>.onnx,
#        reference/<id>/, images/<set>/)
#   speed: .carry/speed/yolov8n_640.cache (octet calibrate --method max at 640x640 on real scenes; without it
#          the zoo part's YOLOv8n cache, calibrated at 320)
# and carry [".carry/gpu.tar.xz", ".carry/zoo", ".carry/speed"]. For the whole zoo, several calls each carry
# a few models packed by tools/gpu/pack_zoo_carry.py (no references: the zoo part makes the missing ones
# there with ONNX Runtime, the same version as here) and name that folder in OCTET_ZOO_CACHE (default
# .carry/zoo). OCTET_PARTS picks parts (default
# zoo,speed,repro); OCTET_ZOO_ONLY models (default: every carried one); OCTET_SPEED_MODELS (default
# yolov8n,mobilenet_v2,efficientnet_b0); OCTET_TEST_GLOB the test binaries (default test_*; none: no tests);
# OCTET_SPEED_BEFORE names another octet binary (e.g. .carry/speed/octet_before.xz, an earlier commit's, xz-packed
# or not) whose INT8 plans are built and benched beside, the before/after of a change in one call;
# OCTET_SPEED_BATCHES the batch sizes (default "1 32"); OCTET_SPEED_PEERS=0 benches octet's INT8 plans only
# (no octet FP32, no PyTorch: a before/after of an INT8 kernel where the peers were measured in an earlier call);
# OCTET_ZOO_IMAGES and OCTET_ZOO_CALIB_IMAGES set its image counts (24, 16; the CPU side of the check runs
# octet's reference kernels there, ~3 minutes per 640x640 detector at the defaults). OCTET_ZOO_TIMEOUT bounds
# the zoo check in seconds (one call runs 600 s at most). Logs and tables go to $OUT.
set -uo pipefail
bundle=.carry/gpu
[ -d "$bundle" ] || tar xJf .carry/gpu.tar.xz -C .carry
export LD_LIBRARY_PATH="$PWD/$bundle/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export PYTHONUNBUFFERED=1
octet="$PWD/$bundle/bin/octet"
out=${OUT:-/tmp/octet-out}
mkdir -p "$out"
parts=${OCTET_PARTS:-zoo,speed,repro}
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | tee "$out/device.txt"

if [[ ",$parts," == *",zoo,"* ]]; then
  for t in "$bundle"/bin/${OCTET_TEST_GLOB:-test_*}; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    "$t" --gtest_brief=1 >"$out/$name.log" 2>&1 || { status=1; echo "FAILED: $name"; }
    echo "== $name: $(grep -E '^\[  (PASSED|FAILED|SKIPPED)  \]' "$out/$name.log" | tr '\n' ' ')"
  done
  zoo=${OCTET_ZOO_CACHE:-.carry/zoo}
  only=${OCTET_ZOO_ONLY:-$(ls "$zoo"/models/*.onnx | xargs -n1 basename | sed 's/\.onnx$//' | grep -v '\.run$' | paste -sd,)}
  missing=$(for m in ${only//,/ }; do [ -f "$zoo/reference/$m/output_0.pb" ] || echo "$m"; done | paste -sd,)
  if [ -n "$missing" ]; then
    python3 -c 'import onnxruntime as o; print("ONNX Runtime", o.__version__, "references for '"$missing"'")' | tee "$out/references.txt"
    python3 tools/models/zoo/ort_reference.py --cache "$zoo" --only "$missing" 2>&1 | tee -a "$out/references.txt" || status=1
  fi
  timeout "${OCTET_ZOO_TIMEOUT:-3000}" python3 tools/models/zoo/check_zoo.py --octet "$octet" --cuda --no-setup --calib-pack --cache "$zoo" \
    --work /tmp/zoo-check --only "$only" --images "${OCTET_ZOO_IMAGES:-24}" --calib-images "${OCTET_ZOO_CALIB_IMAGES:-16}" \
    --report "$out/zoo_cuda.md" --json "$out/zoo_cuda.json" 2>&1 | tee "$out/zoo_cuda.log" | grep -vE '^\s+\S+\s+(ran|built|calibrated)' || status=1
fi

if [[ ",$parts," == *",speed,"* ]]; then
  python3 - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(0)
for name, hw in (("random224", 224),):
    with h5py.File(f"/tmp/{name}.h5", "w") as f:
        f["images"] = rng.standard_normal((64, 3, hw, hw), dtype=np.float32)
PY
  bench() {  # label batch plan-or-model [flags...]: octet bench's summary lines into speed.txt
    local label=$1 b=$2 what=$3; shift 3
    echo "== $label batch $b" | tee -a "$out/speed.txt"
    "$octet" bench "$what" --batch "$b" --use-cuda-graph "$@" 2>&1 | grep -E 'Throughput|GPU Compute Time|Latency|error' | tee -a "$out/speed.txt"
  }
  before=${OCTET_SPEED_BEFORE:-}
  if [[ "$before" == *.xz ]]; then xz -dc "$before" >/tmp/octet_before && chmod +x /tmp/octet_before && before=/tmp/octet_before; fi
  for m in ${OCTET_SPEED_MODELS:-yolov8n mobilenet_v2 efficientnet_b0}; do
    if [ "$m" = yolov8n ]; then
      model=${OCTET_ZOO_CACHE:-.carry/zoo}/models/yolov8n_nudenet_320.onnx; shapes=(--shapes "images:1x3x640x640"); cache=.carry/speed/yolov8n_640.cache
      # Without a carried 640 cache, the one the zoo part just calibrated on real scenes at 320 (same tensors;
      # a plan's speed depends on the shapes and the precisions, not on the scale values).
      [ -f "$cache" ] || cache=/tmp/zoo-check/yolov8n_nudenet_320/int8.cache
      peer=(--yolov8 "$model" --input-shape 3x640x640 --name yolov8n_640)
    else
      model=/tmp/$m.onnx; shapes=(); cache=/tmp/$m.cache
      peer=(--arch "$m")
      python3 tools/models/export_torchvision.py --arch "$m" "$model" >"$out/export_$m.log" 2>&1 || { status=1; echo "export $m failed"; tail -3 "$out/export_$m.log"; continue; }
      "$octet" calibrate "$model" --data /tmp/random224.h5 --method max --batch 32 --backend cuda --cache "$cache" \
        >"$out/calibrate_$m.log" 2>&1 || { status=1; echo "calibrate $m failed"; tail -3 "$out/calibrate_$m.log"; continue; }
    fi
    # A plan per batch: a graph whose shape arithmetic folded the batch (YOLOv8's head) runs only at it.
    for b in ${OCTET_SPEED_BATCHES:-1 32}; do
      "$octet" build "$model" "${shapes[@]}" --batch "$b" --int8 --calib "$cache" --backend cuda --save-engine "/tmp/$m.b$b.plan" \
        --export-layer-info "$out/${m}_b${b}_int8_layers.json" >"$out/build_${m}_b$b.log" 2>&1 || { status=1; echo "build $m b$b failed"; tail -3 "$out/build_${m}_b$b.log"; continue; }
      grep -E '^layers' "$out/build_${m}_b$b.log" | tee -a "$out/speed.txt"
      bench "$m octet INT8" "$b" "/tmp/$m.b$b.plan" --export-profile "$out/${m}_b${b}_int8_profile.json"
      python3 tools/gpu/profile_summary.py "$out/${m}_b${b}_int8_profile.json" "$out/${m}_b${b}_int8_layers.json" \
        >>"$out/speed.txt" 2>&1 || true
      if [ -n "$before" ]; then
        "$before" build "$model" "${shapes[@]}" --batch "$b" --int8 --calib "$cache" --backend cuda --save-engine "/tmp/$m.b$b.before.plan" \
          >"$out/build_${m}_b${b}_before.log" 2>&1 && grep -E '^layers' "$out/build_${m}_b${b}_before.log" | sed 's/^/before: /' | tee -a "$out/speed.txt"
        echo "== $m octet INT8 before batch $b" | tee -a "$out/speed.txt"
        "$before" bench "/tmp/$m.b$b.before.plan" --batch "$b" --use-cuda-graph 2>&1 | grep -E 'Throughput|GPU Compute Time|error' | tee -a "$out/speed.txt"
      fi
      [ "${OCTET_SPEED_PEERS:-1}" = 1 ] && bench "$m octet FP32" "$b" "$model" "${shapes[@]}" --backend cuda
    done
    # The PyTorch YOLOv8 computes the export's graph: checked against ONNX Runtime before it is timed.
    [ "${OCTET_SPEED_PEERS:-1}" = 1 ] || continue
    [ "$m" = yolov8n ] && python3 tools/bench/yolov8_torch.py "$model" --check --size 640 2>&1 | tee -a "$out/speed.txt"
    python3 tools/bench/pytorch_models.py "${peer[@]}" --batch-sizes 1,32 2>&1 | grep -v Warning | tee -a "$out/speed_pytorch.jsonl"
  done
fi

if [[ ",$parts," == *",repro,"* ]]; then
  # What --reproducible costs an INT8 engine whose float layers include convolutions (YOLOv8n at 640,
  # batch 32; the plan from the speed part). The zoo part compares the CPU and CUDA caches and outputs.
  if [ -f /tmp/yolov8n.b32.plan ]; then
    for flag in "" --reproducible; do
      echo "== yolov8n octet INT8 batch 32 ${flag:-(default)}" | tee -a "$out/repro.txt"
      "$octet" bench /tmp/yolov8n.b32.plan --batch 32 --use-cuda-graph $flag 2>&1 | grep -E 'Throughput|GPU Compute Time|error' | tee -a "$out/repro.txt"
    done
  fi
fi

# The device tool brings a handful of files back: the summaries stay loose, the logs go into one archive.
(cd "$out" && ls | grep -vE '^(device\.txt|references\.txt|speed\.txt|repro\.txt|speed_pytorch\.jsonl|zoo_cuda\.(md|json)|logs\.tar\.gz)$' |
  tar czf logs.tar.gz -T - --remove-files)
exit $status
