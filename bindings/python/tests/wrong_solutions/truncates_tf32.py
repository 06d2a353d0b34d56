"""Wrong on purpose: TF32 by truncation (the low 13 mantissa bits of input and weight zeroed,
what feeding raw fp32 bits to a tensor core does) instead of cuDNN's round-to-nearest, then an
fp32 convolution of the truncated operands. Measured at problem 55 against cuDNN: 1.3e-3 max abs
(docs: shared/design.md), far outside allclose(1e-4, 1e-4)."""
import torch
import torch.nn.functional as F

from convgemm.level1_55 import ModelNew as Correct


def truncate_to_tf32(t):
    return (t.detach().contiguous().view(torch.int32) & ~0x1FFF).view(torch.float32)


class ModelNew(Correct):
    def forward(self, x):
        conv = self.conv2d
        cudnn = torch.backends.cudnn
        with cudnn.flags(enabled=cudnn.enabled, benchmark=cudnn.benchmark,
                         deterministic=cudnn.deterministic, allow_tf32=False):
            return F.conv2d(truncate_to_tf32(x), truncate_to_tf32(conv.weight), conv.bias,
                            conv.stride, conv.padding, conv.dilation, conv.groups)
