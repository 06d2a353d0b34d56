"""The C objects the binding keeps: one handle per (host thread, CUDA device), because the header
allows a handle to be used by one thread at a time; and descriptors, immutable and shareable,
cached by their full parameters."""
import atexit
import collections
import ctypes
import threading

from . import _lib

# A few hundred distinct convolutions cover any network; the least recently used are dropped.
_DESCRIPTOR_CACHE_SIZE = 256

# At interpreter exit the CUDA context may already be gone; the process is ending, so the C
# objects are left to it rather than released into a dying runtime. (Tested with `is False`:
# during module teardown the global may already read None.)
_exiting = False


@atexit.register
def _mark_exiting():
    global _exiting
    _exiting = True


class Handle:
    """A convgemm_handle_t bound to `device`; released when the owning thread's storage goes."""

    def __init__(self, device):
        self.device = device
        self.ptr = ctypes.c_void_p()
        self._destroy = _lib.load().convgemm_destroy
        import torch  # only here: the rest of this module runs without torch

        # convgemm_create binds to the current device, so make `device` current around it.
        with torch.cuda.device(device):
            _lib.call("convgemm_create", ctypes.byref(self.ptr))
        bound = ctypes.c_int(-1)
        _lib.call("convgemm_get_device", self.ptr, ctypes.byref(bound))
        if bound.value != device:
            raise RuntimeError(
                f"convgemm handle for cuda:{device} was bound to device {bound.value}; the CUDA "
                f"runtime in libconvgemm.so did not see PyTorch's current device")

    def __del__(self):
        if _exiting is False and self.ptr:
            self._destroy(self.ptr)


_thread_state = threading.local()


def handle(device):
    """This thread's handle for CUDA device index `device`, created on first use."""
    handles = getattr(_thread_state, "handles", None)
    if handles is None:
        handles = _thread_state.handles = {}
    h = handles.get(device)
    if h is None:
        h = handles[device] = Handle(device)
    return h


class Descriptor:
    """A convgemm_conv_desc_t and its output shape. Dropping the last reference destroys it, so
    one evicted from the cache stays valid for a call still using it."""

    def __init__(self, params):
        self.ptr = ctypes.c_void_p()
        self._destroy = _lib.load().convgemm_conv_desc_destroy
        _lib.call("convgemm_conv_desc_create", ctypes.byref(self.ptr), ctypes.byref(params))
        shape = [ctypes.c_int64() for _ in range(4)]
        _lib.call("convgemm_get_output_shape", self.ptr, *map(ctypes.byref, shape))
        self.output_shape = tuple(v.value for v in shape)

    def __del__(self):
        if _exiting is False and self.ptr:
            self._destroy(self.ptr)


_descriptors = collections.OrderedDict()
_descriptors_lock = threading.Lock()

# The order of a descriptor key, as descriptor() takes it.
KEY_FIELDS = ("n", "c", "h", "w", "k", "r", "s", "pad_h", "pad_w", "stride_h", "stride_w",
              "dilation_h", "dilation_w", "groups", "has_bias", "data_type", "math_mode")


def make_params(key):
    """convgemm_conv2d_params_t for a key ordered as KEY_FIELDS, defaults from the library."""
    fields = dict(zip(KEY_FIELDS, key))
    params = _lib.Conv2dParams()
    _lib.call("convgemm_conv2d_params_init", ctypes.byref(params),
              *(fields[f] for f in ("n", "c", "h", "w", "k", "r", "s")))
    for name in KEY_FIELDS[7:]:
        setattr(params, name, int(fields[name]))
    return params


def descriptor(key):
    """The cached Descriptor for `key` (a tuple ordered as KEY_FIELDS), created on first use."""
    with _descriptors_lock:
        d = _descriptors.get(key)
        if d is not None:
            _descriptors.move_to_end(key)
            return d
    # Created outside the lock (a racing thread may create a twin; both are valid).
    d = Descriptor(make_params(key))
    with _descriptors_lock:
        _descriptors[key] = d
        while len(_descriptors) > _DESCRIPTOR_CACHE_SIZE:
            _descriptors.popitem(last=False)
    return d


def workspace_size(h, d, algorithm):
    """(minimum, preferred) workspace bytes of `algorithm` for descriptor d on handle h."""
    minimum, preferred = ctypes.c_size_t(), ctypes.c_size_t()
    _lib.call("convgemm_get_workspace_size", h.ptr, d.ptr, int(algorithm),
              ctypes.byref(minimum), ctypes.byref(preferred))
    return minimum.value, preferred.value


def resolved_algorithm(h, d):
    """The algorithm AUTO picks for d on h's device."""
    algo = ctypes.c_int()
    _lib.call("convgemm_get_algorithm", h.ptr, d.ptr, ctypes.byref(algo))
    return _lib.Algorithm(algo.value)


def forward(h, d, algorithm, x, w, bias, y, workspace, workspace_bytes, stream):
    """convgemm_forward with raw device addresses (ints; bias and workspace may be None)."""
    _lib.call("convgemm_forward", h.ptr, d.ptr, int(algorithm), x, w, bias, y, workspace,
              workspace_bytes, stream)
