"""Wrong on purpose: the last output row of every image and channel is left zero. One edge row
in 510 is 0.2% of the output; allclose must still fail it."""
from convgemm.level1_55 import ModelNew as Correct


class ModelNew(Correct):
    def forward(self, x):
        y = super().forward(x)
        y[..., -1, :] = 0
        return y
