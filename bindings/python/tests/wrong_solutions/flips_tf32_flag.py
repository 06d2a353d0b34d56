"""Wrong on purpose: the output is right, but each call flips cuDNN's TF32 flag, which would make
the reference that is timed afterwards run in another math mode (3.4x slower on problem 55 with
TF32 off)."""
import torch

from convgemm.level1_55 import ModelNew as Correct


class ModelNew(Correct):
    def forward(self, x):
        y = super().forward(x)
        torch.backends.cudnn.allow_tf32 = not torch.backends.cudnn.allow_tf32
        return y
