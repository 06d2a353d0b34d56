"""convgemm: PyTorch's NCHW Conv2d forward (float32, float16, bfloat16) on NVIDIA GPUs through
libconvgemm.so (ctypes).

    import convgemm
    y = convgemm.conv2d(x, w, bias, stride=1, padding=1)      # like F.conv2d
    layer = convgemm.nn.Conv2d(64, 128, 3)                      # like nn.Conv2d

Importing this package needs neither torch nor the library: the C library is loaded on the first
call that needs it (CONVGEMM_LIBRARY, else the repository's bazel-bin/ or .carry/bin/), and the
torch-based parts (conv2d, math_mode, nn, functional) are imported on first access."""
from ._lib import (Algorithm, ConvgemmError, DataType, LibraryNotFoundError, MathMode, Status,
                   find_library, version)

__all__ = ["Algorithm", "ConvgemmError", "DataType", "LibraryNotFoundError", "MathMode", "Status",
           "conv2d", "find_library", "functional", "math_mode", "nn", "version"]

# Attributes that import torch, resolved on first access (PEP 562).
_LAZY = {
    "conv2d": ("functional", "conv2d"),
    "math_mode": ("_precision", "math_mode"),
    "functional": ("functional", None),
    "nn": ("nn", None),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'convgemm' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value
