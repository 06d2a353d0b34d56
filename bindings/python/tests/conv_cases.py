"""The configuration matrix the conv2d tests share: F.conv2d's arguments over strides, paddings
(ints, pairs, 'valid', 'same' symmetric and not), dilations, groups (2, 4, depthwise), bias, kernel
shapes, batch sizes, odd sizes and unbatched input."""
import math

import torch

# name -> (x shape or None for unbatched (C, H, W), weight shape (K, C/G, R, S), conv2d kwargs)
CASES = {
    "base_3x3": ((2, 8, 13, 17), (16, 8, 3, 3), {}),
    "stride_2": ((2, 8, 13, 17), (16, 8, 3, 3), dict(stride=2)),
    "stride_2x1": ((2, 8, 13, 17), (16, 8, 3, 3), dict(stride=(2, 1), padding=1)),
    "padding_1": ((2, 8, 13, 17), (16, 8, 3, 3), dict(padding=1)),
    "padding_1x2": ((2, 8, 13, 17), (16, 8, 3, 3), dict(padding=(1, 2))),
    "padding_valid": ((2, 8, 13, 17), (16, 8, 3, 3), dict(padding="valid")),
    "padding_same": ((2, 8, 13, 17), (16, 8, 3, 3), dict(padding="same")),
    "padding_same_even_kernel": ((2, 8, 13, 17), (16, 8, 4, 2), dict(padding="same")),
    "padding_same_dilated": ((2, 8, 13, 17), (16, 8, 3, 3), dict(padding="same", dilation=2)),
    "dilation_2": ((2, 8, 13, 17), (16, 8, 3, 3), dict(dilation=2, padding=1)),
    "dilation_2x3": ((2, 8, 15, 17), (16, 8, 3, 3), dict(dilation=(2, 3))),
    "groups_2": ((2, 8, 13, 17), (16, 4, 3, 3), dict(groups=2, padding=1)),
    "groups_4_bias": ((2, 16, 13, 17), (32, 4, 3, 3), dict(groups=4, bias=True)),
    "depthwise": ((2, 8, 13, 17), (8, 1, 3, 3), dict(groups=8, padding=1)),
    "depthwise_multiplier_2": ((2, 8, 13, 17), (16, 1, 3, 3), dict(groups=8)),
    "bias": ((2, 8, 13, 17), (16, 8, 3, 3), dict(bias=True)),
    "kernel_1x1": ((2, 8, 13, 17), (16, 8, 1, 1), {}),
    "kernel_5x3": ((2, 8, 13, 17), (16, 8, 5, 3), dict(padding=(2, 1), bias=True)),
    "n_1": ((1, 8, 13, 17), (16, 8, 3, 3), {}),
    "odd_small": ((2, 8, 7, 5), (16, 8, 3, 3), dict(padding=1)),
    "unbatched": ((8, 13, 17), (16, 8, 3, 3), dict(padding=1, bias=True)),
    "channels_64_to_128": ((2, 64, 20, 33), (128, 64, 3, 3), dict(bias=True)),
    "everything": ((2, 16, 19, 23), (32, 4, 5, 3),
                   dict(stride=2, padding=(2, 1), dilation=(2, 1), groups=4, bias=True)),
}


def make_case(shape_x, shape_w, kwargs, device, seed=0):
    """torch.rand inputs as KernelBench draws them; nn.Conv2d's default weight and bias range."""
    g = torch.Generator().manual_seed(seed)
    fan_in = math.prod(shape_w[1:])
    bound = 1 / math.sqrt(fan_in)
    x = torch.rand(shape_x, generator=g)
    w = (torch.rand(shape_w, generator=g) * 2 - 1) * bound
    kwargs = dict(kwargs)
    b = (torch.rand(shape_w[0], generator=g) * 2 - 1) * bound if kwargs.pop("bias", False) else None

    def to(t):
        return None if t is None else t.to(device)

    return to(x), to(w), to(b), kwargs


