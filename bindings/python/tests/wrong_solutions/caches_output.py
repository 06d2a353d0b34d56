"""Wrong on purpose: computes once and returns that output for every later input."""
from convgemm.level1_55 import ModelNew as Correct


class ModelNew(Correct):
    def forward(self, x):
        if getattr(self, "cached", None) is None:
            self.cached = super().forward(x)
        return self.cached
