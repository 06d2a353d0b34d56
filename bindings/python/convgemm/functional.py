"""convgemm.conv2d: torch.nn.functional.conv2d's forward on CUDA float32, float16 or bfloat16
tensors, computed by libconvgemm.so on the caller's current stream."""
import torch
import torch.nn.functional as F

from . import _args, _lib, _resources
from ._precision import math_mode

ALGORITHMS = {
    "auto": _lib.Algorithm.AUTO,
    "direct": _lib.Algorithm.DIRECT,
    "im2col_gemm": _lib.Algorithm.IM2COL_GEMM,
    "implicit_gemm": _lib.Algorithm.IMPLICIT_GEMM,
}

# The tensor dtypes the library takes, and its data type for each.
DATA_TYPES = {
    torch.float32: _lib.DataType.FLOAT32,
    torch.float16: _lib.DataType.FLOAT16,
    torch.bfloat16: _lib.DataType.BFLOAT16,
}


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           algorithm="auto"):
    """F.conv2d(input, weight, bias, stride, padding, dilation, groups), computed by convgemm.

    input: (N, C, H, W) or unbatched (C, H, W); weight: (K, C/groups, R, S); bias: (K,) or None;
    all of one dtype (float32, float16 or bfloat16: 16-bit data is accumulated in fp32 and the
    output rounded once, as cuDNN does) on one CUDA device; the output has that dtype.
    Non-contiguous or channels_last tensors are copied to
    contiguous NCHW first (the values are unchanged; the copy costs time). An asymmetric
    padding='same' (even dilated kernel extent) zero-pads a copy of the input on the bottom/right,
    as PyTorch does. The math mode follows PyTorch's TF32 setting for cuDNN convolutions at call
    time (see math_mode(); it changes nothing for 16-bit data). `algorithm`: 'auto', 'direct',
    'im2col_gemm' or 'implicit_gemm'.

    Forward only: if autograd would record the call, the result's backward raises.
    Raises TypeError (another dtype, or mixed dtypes), ValueError (device, shapes, arguments),
    ConvgemmError (the library refused: its status and message)."""
    x, launch = _prepare(input, weight, bias, stride, padding, dilation, groups, algorithm)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad
                                       for t in (x, weight, bias)):
        y = _ForwardOnly.apply(x, weight, bias, launch)
    else:
        y = _forward(x, weight, bias, launch)
    return y.squeeze(0) if input.dim() == 3 else y


def auto_algorithm(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The algorithm name ('direct', 'im2col_gemm', ...) that conv2d's algorithm='auto' runs
    for these arguments on input's device in the current math mode."""
    x, launch = _prepare(input, weight, bias, stride, padding, dilation, groups, "auto")
    desc = _descriptor(x, weight, bias, launch)
    algo = _resources.resolved_algorithm(_resources.handle(x.device.index), desc)
    return next(name for name, value in ALGORITHMS.items() if value == algo)


def _prepare(input, weight, bias, stride, padding, dilation, groups, algorithm):
    """Checks the arguments; returns the batched (and, for an asymmetric 'same', padded) input
    and the launch parameters (stride, symmetric padding, dilation, groups, algorithm)."""
    algo = _algorithm(algorithm)
    _check_tensors(input, weight, bias)
    x = input.unsqueeze(0) if input.dim() == 3 else input
    groups = _args.integer("groups", groups)
    _check_shapes(x, weight, bias, groups)
    stride = _args.pair("stride", stride)
    dilation = _args.pair("dilation", dilation)
    pad_h, pad_w, extra_h, extra_w = _args.resolve_padding(
        padding, tuple(weight.shape[2:]), stride, dilation)
    if extra_h or extra_w:
        x = F.pad(x, (0, extra_w, 0, extra_h))
    return x, (stride, (pad_h, pad_w), dilation, groups, algo)


def _algorithm(algorithm):
    if isinstance(algorithm, _lib.Algorithm):
        return algorithm
    try:
        return ALGORITHMS[algorithm]
    except (KeyError, TypeError):
        raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, "
                         f"got {algorithm!r}") from None


def _check_tensors(input, weight, bias):
    named = [("input", input), ("weight", weight)] + ([("bias", bias)] if bias is not None else [])
    for name, t in named:
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dtype not in DATA_TYPES:
            raise TypeError(f"convgemm supports float32, float16 and bfloat16, got {name} of "
                            f"dtype {t.dtype}")
    for name, t in named[1:]:
        if t.dtype != input.dtype:
            raise TypeError(f"all tensors must have one dtype: input is {input.dtype}, {name} is "
                            f"{t.dtype}")
    _check_devices(named)


def _check_devices(named):
    device = named[0][1].device
    for name, t in named:
        if t.device.type != "cuda":
            raise ValueError(f"convgemm runs on CUDA tensors, got {name} on {t.device}")
        if t.device != device:
            raise ValueError(f"all tensors must be on one device: input is on {device}, "
                             f"{name} on {t.device}")


def _check_shapes(x, weight, bias, groups):
    if x.dim() != 4:
        raise ValueError("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                         f"input of size: {list(x.shape)}")
    if weight.dim() != 4:
        raise ValueError(f"weight must be 4-D (K, C/groups, R, S), got size {list(weight.shape)}")
    # The C API takes C from the input and only K, R, S from the weight, so the weight's channel
    # count is checked here (C and K divisibility by groups is the library's BAD_GROUPS).
    if groups > 0 and weight.shape[1] * groups != x.shape[1]:
        raise ValueError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                         f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but "
                         f"got {x.shape[1]} channels instead")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {list(bias.shape)}")


def _descriptor(x, weight, bias, launch):
    """The cached descriptor of this convolution in the current math mode. N = 0 is valid for
    PyTorch but not for the C API: the descriptor of one image still validates the rest and
    gives the output's spatial size."""
    (stride_h, stride_w), (pad_h, pad_w), (dil_h, dil_w), groups, _ = launch
    n, c, h, w = x.shape
    k, _, r, s = weight.shape
    key = (max(n, 1), c, h, w, k, r, s, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, groups,
           int(bias is not None), int(DATA_TYPES[x.dtype]), int(math_mode()))
    return _resources.descriptor(key)


def _forward(x, weight, bias, launch):
    x = x.contiguous()
    weight = weight.contiguous()
    bias = bias.contiguous() if bias is not None else None
    desc = _descriptor(x, weight, bias, launch)
    n, k, p, q = x.shape[0], *desc.output_shape[1:]
    y = torch.empty((n, k, p, q), dtype=x.dtype, device=x.device)
    if n > 0:
        _launch(desc, launch[-1], x, weight, bias, y)
    return y


def _launch(desc, algo, x, weight, bias, y):
    """convgemm_forward on this thread's handle for x's device and its current stream, with the
    algorithm's preferred workspace."""
    handle = _resources.handle(x.device.index)
    _, preferred = _resources.workspace_size(handle, desc, algo)
    workspace = _workspace(preferred, x.device)
    stream = torch.cuda.current_stream(x.device).cuda_stream
    _resources.forward(handle, desc, algo, x.data_ptr(), weight.data_ptr(),
                       bias.data_ptr() if bias is not None else None, y.data_ptr(),
                       workspace.data_ptr() if workspace is not None else None, preferred,
                       stream)
    # The workspace, x and weight go back to PyTorch's caching allocator after this; it hands
    # their blocks only to work queued later on this stream, which runs after convgemm's work
    # (the library joins its own streams back into this one).


def _workspace(nbytes, device):
    """nbytes of device memory from PyTorch's caching allocator, WORKSPACE_ALIGNMENT-aligned."""
    if nbytes == 0:
        return None
    buf = torch.empty(nbytes, dtype=torch.uint8, device=device)
    # The caching allocator returns 512-byte aligned blocks; another allocator backend might
    # not, and then a view at the next aligned address of a larger block is used.
    misalignment = buf.data_ptr() % _lib.WORKSPACE_ALIGNMENT
    if misalignment == 0:
        return buf
    buf = torch.empty(nbytes + _lib.WORKSPACE_ALIGNMENT, dtype=torch.uint8, device=device)
    offset = -buf.data_ptr() % _lib.WORKSPACE_ALIGNMENT
    return buf[offset:offset + nbytes]


class _ForwardOnly(torch.autograd.Function):
    """Records the call for autograd so that a backward through it fails loudly instead of
    silently treating the output as a constant."""

    @staticmethod
    def forward(ctx, x, weight, bias, launch):
        return _forward(x, weight, bias, launch)

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("convgemm computes convolution forward only; use "
                                  "torch.nn.functional.conv2d where gradients are needed")
