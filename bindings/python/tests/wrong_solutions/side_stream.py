"""Wrong on purpose: computes on a side stream and returns without joining it back to the
caller's stream, so the caller's next kernel reads the output before it is written. The sleep
queued first stands in for a convolution that takes longer than the caller takes to launch its
next kernel (true at problem-55 scale; at a small size the race could go either way)."""
import torch

from convgemm.level1_55 import ModelNew as Correct

SLEEP_CYCLES = 50_000_000  # about 25 ms at 2 GHz


class ModelNew(Correct):
    def forward(self, x):
        side = torch.cuda.Stream(device=x.device)
        # The input is ready on the side stream; only the join back is missing.
        side.wait_stream(torch.cuda.current_stream(x.device))
        with torch.cuda.stream(side):
            torch.cuda._sleep(SLEEP_CYCLES)
            return super().forward(x)
