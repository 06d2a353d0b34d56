"""CUDA-event timing of a callable as KernelBench does it (warm-ups, an L2 flush before every
timed call, the first timed call discarded), plus an end event recorded after a device-wide
synchronize so that work left running on other streams is counted too."""
import statistics

import torch

# KernelBench flushes L2 by writing 256 MB (H100: 50 MB of L2, H200: 60 MB, B200: 126 MB).
L2_FLUSH_BYTES = 256 * 1024 * 1024


def time_calls(fn, args, warmup=3, timed=100, discard_first=1, device=None):
    """Times `timed` calls of fn(*args) on `device` (default: the current one).

    Each call: device synchronize; L2 flush (on the current stream); start event; the call; end
    event (KernelBench's measurement, on the current stream only); device synchronize; a second
    end event, which no stream's work can precede. Returns {'event_ms': [...], 'synced_ms': [...]}:
    `event_ms` is KernelBench's number, `synced_ms` also contains whatever the call queued on
    other streams, plus a few microseconds of synchronize latency."""
    device = torch.device("cuda", torch.cuda.current_device()) if device is None else device
    with torch.cuda.device(device):
        flush = torch.empty(L2_FLUSH_BYTES // 4, dtype=torch.float32, device=device)
        for _ in range(warmup):
            fn(*args)
            torch.cuda.synchronize()
        event_ms, synced_ms = [], []
        for i in range(discard_first + timed):
            torch.cuda.synchronize()
            flush.zero_()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            end_synced = torch.cuda.Event(enable_timing=True)
            start.record()
            fn(*args)
            end.record()
            torch.cuda.synchronize()
            end_synced.record()
            end_synced.synchronize()
            if i >= discard_first:
                event_ms.append(start.elapsed_time(end))
                synced_ms.append(start.elapsed_time(end_synced))
        del flush
    return {"event_ms": event_ms, "synced_ms": synced_ms}


def stats(times_ms):
    """mean (KernelBench's reported number), median, std, min, max and count of a list of ms."""
    return {
        "mean": statistics.fmean(times_ms),
        "median": statistics.median(times_ms),
        "std": statistics.pstdev(times_ms) if len(times_ms) > 1 else 0.0,
        "min": min(times_ms),
        "max": max(times_ms),
        "n": len(times_ms),
    }
