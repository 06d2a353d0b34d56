"""Which convgemm math mode matches what PyTorch's cuDNN convolution would do right now."""
from ._lib import MathMode


def math_mode():
    """DEFAULT (TF32 operands) when PyTorch lets cuDNN convolutions use TF32, IEEE otherwise.

    torch >= 2.9 keeps the setting as fp32_precision per (backend, op); ATen's convolution asks
    for cuda/conv and resolves 'none' through its parents, cuda/all then generic/all, and uses
    TF32 only if that resolves to 'tf32'. The legacy flag torch.backends.cudnn.allow_tf32 writes
    cuda/conv ('tf32' or 'none'), so the two APIs agree; reading allow_tf32 itself raises once
    the new API has set conv and rnn differently, so it is only read on older torch."""
    import torch

    backends = torch.backends
    conv = getattr(getattr(backends.cudnn, "conv", None), "fp32_precision", None)
    if conv is None:
        return MathMode.DEFAULT if backends.cudnn.allow_tf32 else MathMode.IEEE
    precision = conv
    for parent in (getattr(backends.cudnn, "fp32_precision", "none"),
                   getattr(backends, "fp32_precision", "none")):
        if precision != "none":
            break
        precision = parent
    return MathMode.DEFAULT if precision == "tf32" else MathMode.IEEE
