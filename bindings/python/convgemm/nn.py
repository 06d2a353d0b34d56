"""convgemm.nn.Conv2d: torch.nn.Conv2d whose forward runs convgemm."""
import torch

from .functional import conv2d


class Conv2d(torch.nn.Conv2d):
    """torch.nn.Conv2d with the same constructor, parameters, initialisation and state_dict keys
    (so a model built under the same seed gets the same weights); forward computes with convgemm.

    `algorithm` (keyword only, default 'auto') picks the convgemm algorithm. The forward takes
    CUDA float32, float16 or bfloat16 input of the parameters' dtype (`.half()`,
    `.to(torch.bfloat16)`) with padding_mode='zeros' and raises for anything else: there is no
    silent fallback to PyTorch's convolution."""

    def __init__(self, *args, algorithm="auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.algorithm = algorithm

    def forward(self, input):
        if self.padding_mode != "zeros":
            raise NotImplementedError(
                f"convgemm.nn.Conv2d supports padding_mode='zeros' only, got "
                f"{self.padding_mode!r}")
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, algorithm=self.algorithm)

    def extra_repr(self):
        extra = super().extra_repr()
        return extra if self.algorithm == "auto" else f"{extra}, algorithm={self.algorithm!r}"
