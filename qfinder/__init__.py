"""qfinder: a desktop semantic file finder."""

import os

# onnxruntime reads this when it is first imported; without it ORT writes a device id and a
# telemetry queue under ~/.cache/Microsoft. Set it before any submodule can import onnxruntime.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
