"""Wrong on purpose: the output is right and ready on the caller's stream, but work the call
started keeps running on another stream afterwards (here a sleep; in a real cheat, a deferred
part of the computation or a cache fill). KernelBench's end event on the current stream misses
it; convgemm.eval's synchronized end event must not."""
import torch

from convgemm.level1_55 import ModelNew as Correct

SLEEP_CYCLES = 50_000_000  # about 25 ms at 2 GHz


class ModelNew(Correct):
    def forward(self, x):
        y = super().forward(x)
        side = torch.cuda.Stream(device=x.device)
        with torch.cuda.stream(side):
            torch.cuda._sleep(SLEEP_CYCLES)
        return y
