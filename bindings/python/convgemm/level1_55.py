"""KernelBench level 1 problem 55 with its convgemm solution, in KernelBench's file format.

`Model`, the sizes, `get_inputs` and `get_init_inputs` are the problem file's, unchanged, so this
file serves as the problem too. `ModelNew` takes Model's constructor parameters and builds its
convolution exactly as Model does (same arguments, same order of random draws), so under the same
seed both get identical weights and identical state_dict keys; its forward runs convgemm.

Conv2d forward, asymmetric input (width twice the height), square 3x3 kernel:
  x: (8, 64, 512, 1024) float32 in [0, 1)  ->  y: (8, 128, 510, 1022) float32
Needs `convgemm` importable (PYTHONPATH=bindings/python) and libconvgemm.so (see its README)."""
import torch
import torch.nn as nn

import convgemm.nn


class Model(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, groups: int = 1, bias: bool = False):
        super().__init__()
        self.conv2d = nn.Conv2d(in_channels, out_channels, (kernel_size, kernel_size), stride=stride,
                                padding=padding, dilation=dilation, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(x)


class ModelNew(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, groups: int = 1, bias: bool = False):
        super().__init__()
        self.conv2d = convgemm.nn.Conv2d(in_channels, out_channels, (kernel_size, kernel_size),
                                         stride=stride, padding=padding, dilation=dilation,
                                         groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(x)


batch_size = 8
height = 512
width = 1024
in_channels = 64
out_channels = 128
kernel_size = 3


def get_inputs():
    return [torch.rand(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]
