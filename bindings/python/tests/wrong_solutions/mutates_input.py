"""Wrong on purpose: the output is right, but the input is modified in place afterwards."""
from convgemm.level1_55 import ModelNew as Correct


class ModelNew(Correct):
    def forward(self, x):
        y = super().forward(x)
        x.mul_(2.0)
        return y
