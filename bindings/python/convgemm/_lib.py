"""libconvgemm.so through ctypes: finding and loading it, the C types and prototypes of
conv/convgemm.h, and turning a status other than SUCCESS into ConvgemmError.

Nothing here imports torch, and nothing loads the library until load() is first called, so
`import convgemm` works on a machine without either."""
import ctypes
import enum
import os
import pathlib
import threading

ENV_VAR = "CONVGEMM_LIBRARY"

# bindings/python/convgemm/_lib.py -> the repository root.
_REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
# Bazel's output first; then where tools/stage_device_binaries.sh copies the library for the GPU
# machine, which has no Bazel.
_REPO_CANDIDATES = ("bazel-bin/conv/libconvgemm.so", ".carry/bin/libconvgemm.so")

# CONVGEMM_WORKSPACE_ALIGNMENT: convgemm_forward's requirement on the workspace pointer.
WORKSPACE_ALIGNMENT = 256

# The header this module mirrors. In 0.x any minor version may change the ABI (the params struct,
# the enums), so a library of another major.minor is refused rather than called with wrong types.
HEADER_VERSION = (0, 2)


class Status(enum.IntEnum):
    SUCCESS = 0
    NULL_POINTER = 1
    BAD_SIZE = 2
    BAD_GROUPS = 3
    BAD_PADDING = 4
    BAD_STRIDE = 5
    BAD_DILATION = 6
    FILTER_TOO_LARGE = 7
    SIZE_OVERFLOW = 8
    BAD_ENUM = 9
    NOT_SUPPORTED = 10
    WORKSPACE_TOO_SMALL = 11
    BAD_POINTER = 12
    WRONG_DEVICE = 13
    ALLOC_FAILED = 14
    CUDA_ERROR = 15
    CUBLAS_ERROR = 16
    INTERNAL_ERROR = 17


class DataType(enum.IntEnum):
    FLOAT32 = 0
    FLOAT16 = 1  # x, w, bias and y all float16; fp32 accumulation, y rounded once
    BFLOAT16 = 2  # the same in bfloat16


class MathMode(enum.IntEnum):
    # float32 data; with 16-bit data both modes accumulate exact products in fp32 (same results)
    DEFAULT = 0  # operands rounded to TF32 (ties away), fp32 accumulation: cuDNN's default
    IEEE = 1  # fp32-accurate


class Algorithm(enum.IntEnum):
    DIRECT = 0
    IM2COL_GEMM = 1
    IMPLICIT_GEMM = 2
    AUTO = 3


class Conv2dParams(ctypes.Structure):
    """convgemm_conv2d_params_t, field for field (C enums are int-sized)."""

    _fields_ = [
        ("n", ctypes.c_int64), ("c", ctypes.c_int64), ("h", ctypes.c_int64), ("w", ctypes.c_int64),
        ("k", ctypes.c_int64), ("r", ctypes.c_int64), ("s", ctypes.c_int64),
        ("pad_h", ctypes.c_int64), ("pad_w", ctypes.c_int64),
        ("stride_h", ctypes.c_int64), ("stride_w", ctypes.c_int64),
        ("dilation_h", ctypes.c_int64), ("dilation_w", ctypes.c_int64),
        ("groups", ctypes.c_int64),
        ("has_bias", ctypes.c_int),
        ("data_type", ctypes.c_int),
        ("math_mode", ctypes.c_int),
    ]


class LibraryNotFoundError(OSError):
    """libconvgemm.so is not where CONVGEMM_LIBRARY or the repository layout says."""


class ConvgemmError(RuntimeError):
    """A convgemm C function returned a status other than SUCCESS.

    status: Status (or the raw int for a code this binding does not know); status_name: the
    library's name for it (convgemm_status_string); message: convgemm_get_last_error() right
    after the failing call; function: the C function that failed."""

    def __init__(self, function, status, status_name, message):
        self.function = function
        self.status = status
        self.status_name = status_name
        self.message = message
        super().__init__(f"{function} failed with {status_name} ({int(status)}): {message}")

    def __reduce__(self):  # picklable (multiprocessing), though __init__ takes four arguments
        return type(self), (self.function, self.status, self.status_name, self.message)


_HANDLE = ctypes.c_void_p
_DESC = ctypes.c_void_p
_STATUS = ctypes.c_int
_PROTOTYPES = {
    "convgemm_get_version": (ctypes.c_int, []),
    "convgemm_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "convgemm_get_last_error": (ctypes.c_char_p, []),
    "convgemm_create": (_STATUS, [ctypes.POINTER(_HANDLE)]),
    "convgemm_destroy": (_STATUS, [_HANDLE]),
    "convgemm_get_device": (_STATUS, [_HANDLE, ctypes.POINTER(ctypes.c_int)]),
    "convgemm_conv2d_params_init": (
        _STATUS, [ctypes.POINTER(Conv2dParams)] + [ctypes.c_int64] * 7),
    "convgemm_conv_desc_create": (_STATUS, [ctypes.POINTER(_DESC), ctypes.POINTER(Conv2dParams)]),
    "convgemm_conv_desc_destroy": (_STATUS, [_DESC]),
    "convgemm_conv_desc_get_params": (_STATUS, [_DESC, ctypes.POINTER(Conv2dParams)]),
    "convgemm_get_output_shape": (_STATUS, [_DESC] + [ctypes.POINTER(ctypes.c_int64)] * 4),
    "convgemm_get_algorithm": (_STATUS, [_HANDLE, _DESC, ctypes.POINTER(ctypes.c_int)]),
    "convgemm_check_algorithm": (_STATUS, [_HANDLE, _DESC, ctypes.c_int]),
    "convgemm_get_workspace_size": (
        _STATUS, [_HANDLE, _DESC, ctypes.c_int, ctypes.POINTER(ctypes.c_size_t),
                  ctypes.POINTER(ctypes.c_size_t)]),
    "convgemm_forward": (
        _STATUS, [_HANDLE, _DESC, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                  ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]),
}

_lock = threading.Lock()
_lib = None


def find_library():
    """The path of libconvgemm.so: $CONVGEMM_LIBRARY if set, else the repository's build outputs."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        path = pathlib.Path(explicit)
        if not path.is_file():
            raise LibraryNotFoundError(f"{ENV_VAR}={explicit} is not a file")
        return path
    for relative in _REPO_CANDIDATES:
        path = _REPO_ROOT / relative
        if path.is_file():
            return path
    searched = ", ".join(str(_REPO_ROOT / r) for r in _REPO_CANDIDATES)
    raise LibraryNotFoundError(
        f"libconvgemm.so not found: set {ENV_VAR} to its full path, or build it with "
        f"`bazel build //conv:libconvgemm.so` (searched {searched})")


def load():
    """The loaded library with every prototype set (loaded once per process)."""
    global _lib
    with _lock:
        if _lib is None:
            path = find_library()
            lib = ctypes.CDLL(str(path))
            for name, (restype, argtypes) in _PROTOTYPES.items():
                function = getattr(lib, name)
                function.restype = restype
                function.argtypes = argtypes
            found = _split_version(lib.convgemm_get_version())
            if found[:2] != HEADER_VERSION:
                raise LibraryNotFoundError(
                    f"{path} is convgemm {'.'.join(map(str, found))}; this binding mirrors the "
                    f"{HEADER_VERSION[0]}.{HEADER_VERSION[1]}.x header")
            lib.path = path
            _lib = lib
        return _lib


def _split_version(encoded):
    return encoded // 10000, encoded // 100 % 100, encoded % 100


def version():
    """(major, minor, patch) of the loaded library."""
    return _split_version(load().convgemm_get_version())


def check(function, status):
    """Raises ConvgemmError for a status other than SUCCESS; call it right after `function` on
    the same thread (the library keeps the last error per host thread)."""
    if status == Status.SUCCESS:
        return
    lib = load()
    message = lib.convgemm_get_last_error().decode(errors="replace")
    name = lib.convgemm_status_string(status).decode(errors="replace")
    try:
        status = Status(status)
    except ValueError:
        pass
    raise ConvgemmError(function, status, name, message)


def call(function, *args):
    """Calls the C function named `function` and raises ConvgemmError if it fails."""
    check(function, getattr(load(), function)(*args))
