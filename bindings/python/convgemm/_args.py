"""F.conv2d's argument conventions, in plain Python (no torch): int-or-pair arguments and the
'valid' / 'same' padding strings."""
import operator


def pair(name, value):
    """(h, w) from an int or a sequence of one or two ints, as F.conv2d accepts."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return tuple(integer(name, v) for v in value)
    v = integer(name, value)
    return v, v


def integer(name, value):
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None


def resolve_padding(padding, kernel, stride, dilation):
    """Symmetric padding for the C API plus the extra rows/columns PyTorch adds at the bottom and
    right for an asymmetric 'same': (pad_h, pad_w, extra_h, extra_w).

    'same' follows PyTorch: total = dilation * (k - 1) per axis, total // 2 on the top/left and
    the rest on the bottom/right; like PyTorch it is refused for strided convolutions."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                             f"{{'valid', 'same'}}")
        if stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return top, left, bottom - top, right - left
    pad_h, pad_w = pair("padding", padding)
    return pad_h, pad_w, 0, 0
