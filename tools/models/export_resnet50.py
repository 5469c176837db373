#!/usr/bin/env python3
"""Export torchvision ResNet-50 with random weights (seed 0) to ONNX, for benchmarks: the same as
tools/models/export_torchvision.py --arch resnet50 (see there).

    python3 tools/models/export_resnet50.py /tmp/resnet50.onnx [--verify]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_torchvision  # noqa: E402

if __name__ == "__main__":
    export_torchvision.main(default_arch="resnet50")
