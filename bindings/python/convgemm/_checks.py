"""The correctness trials and the guards of convgemm.eval, each a function returning a plain dict
(JSON-ready) with a boolean 'passed' and, when it fails, an 'issue' saying why."""
import statistics

import torch

# KernelBench's tolerances (atol = rtol) by output dtype.
TOLERANCES = {torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 1e-2}


def set_seed(seed):
    """KernelBench's set_seed: the CPU generator and the current CUDA device's."""
    torch.manual_seed(seed)
    torch.cuda.manual_seed(seed)


def trial_seeds(seed, trials):
    """KernelBench's per-trial seeds: drawn from the CPU generator seeded with `seed`."""
    torch.manual_seed(seed)
    return [torch.randint(0, 2**32 - 1, (1,)).item() for _ in range(trials)]


def to_device(values, device):
    return [v.to(device) if isinstance(v, torch.Tensor) else v for v in values]


# ---- flags a solution must not change -------------------------------------------------------

def _flag_readers():
    b = torch.backends
    readers = {
        "cudnn.allow_tf32": lambda: b.cudnn.allow_tf32,
        "cuda.matmul.allow_tf32": lambda: b.cuda.matmul.allow_tf32,
        "cudnn.benchmark": lambda: b.cudnn.benchmark,
        "cudnn.deterministic": lambda: b.cudnn.deterministic,
        "cudnn.enabled": lambda: b.cudnn.enabled,
        "float32_matmul_precision": torch.get_float32_matmul_precision,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled,
    }
    # torch >= 2.9's per-backend precision settings, where present.
    optional = {
        "fp32_precision": lambda: b.fp32_precision,
        "cudnn.fp32_precision": lambda: b.cudnn.fp32_precision,
        "cudnn.conv.fp32_precision": lambda: b.cudnn.conv.fp32_precision,
        "cuda.matmul.fp32_precision": lambda: b.cuda.matmul.fp32_precision,
    }
    for name, read in optional.items():
        try:
            read()
        except AttributeError:
            continue
        readers[name] = read
    return readers


def snapshot_flags():
    """Every numerics or algorithm-choice flag of PyTorch that changes what the reference computes
    or how fast it runs. A flag whose read raises (torch refuses to read allow_tf32 after the new
    and legacy APIs were mixed) is recorded as the error."""
    flags = {}
    for name, read in _flag_readers().items():
        try:
            flags[name] = read()
        except RuntimeError as e:
            flags[name] = f"<read failed: {str(e)[:80]}>"
    return flags


def restore_flags(flags):
    """Sets the flags back to a snapshot: the coarse settings first, since setting them rewrites
    the finer ones (cudnn.allow_tf32 writes cudnn.conv.fp32_precision)."""
    b = torch.backends
    setters = [
        ("cudnn.allow_tf32", lambda v: setattr(b.cudnn, "allow_tf32", v)),
        ("float32_matmul_precision", torch.set_float32_matmul_precision),
        ("cuda.matmul.allow_tf32", lambda v: setattr(b.cuda.matmul, "allow_tf32", v)),
        ("cudnn.benchmark", lambda v: setattr(b.cudnn, "benchmark", v)),
        ("cudnn.deterministic", lambda v: setattr(b.cudnn, "deterministic", v)),
        ("cudnn.enabled", lambda v: setattr(b.cudnn, "enabled", v)),
        ("deterministic_algorithms", torch.use_deterministic_algorithms),
        ("fp32_precision", lambda v: setattr(b, "fp32_precision", v)),
        ("cudnn.fp32_precision", lambda v: setattr(b.cudnn, "fp32_precision", v)),
        ("cudnn.conv.fp32_precision", lambda v: setattr(b.cudnn.conv, "fp32_precision", v)),
        ("cuda.matmul.fp32_precision", lambda v: setattr(b.cuda.matmul, "fp32_precision", v)),
    ]
    for name, set_value in setters:
        value = flags.get(name)
        if value is None or (isinstance(value, str) and value.startswith("<read failed")):
            continue
        set_value(value)


def check_flags(before, stage):
    """Guard: the flags are as they were before the solution was loaded."""
    after = snapshot_flags()
    changed = {k: {"before": before.get(k), "after": v} for k, v in after.items()
               if before.get(k) != v}
    if not changed:
        return {"passed": True, "stage": stage}
    restore_flags(before)
    return {"passed": False, "stage": stage, "changed": changed,
            "issue": f"ModelNew changed PyTorch flags ({', '.join(changed)}) during {stage}; "
                     f"they were restored for the rest of the evaluation"}


# ---- correctness ----------------------------------------------------------------------------

def _max_abs_diff(a, b):
    if a.numel() == 0:
        return 0.0
    # In the output's own precision (float32 for float32): a double copy of problem 55's 2 GB
    # output would cost 8 GB per operand for no better answer at these tolerances.
    return (a.float() - b.float()).abs().max().item()


def compare_outputs(ref, read, after_sync):
    """One trial's verdict. `read`: ModelNew's output as copied on the current stream right after
    forward returned, with no synchronization (what the caller's next kernel would see);
    `after_sync`: the same output after a device-wide synchronize."""
    if not isinstance(read, torch.Tensor):
        return {"passed": False, "issue": f"ModelNew returned {type(read).__name__}, not a tensor"}
    if read.shape != ref.shape:
        return {"passed": False, "issue": f"output shape {list(read.shape)}, "
                                          f"expected {list(ref.shape)}"}
    if read.dtype != ref.dtype:
        return {"passed": False, "issue": f"output dtype {read.dtype}, expected {ref.dtype}"}
    tol = TOLERANCES.get(ref.dtype, 1e-4)
    passed = torch.allclose(read, ref, atol=tol, rtol=tol)
    result = {"passed": bool(passed), "tolerance": tol, "max_abs_diff": _max_abs_diff(read, ref)}
    if not passed:
        synced_passed = torch.allclose(after_sync, ref, atol=tol, rtol=tol)
        result["max_abs_diff_after_sync"] = _max_abs_diff(after_sync, ref)
        if synced_passed:
            result["issue"] = ("output not ready on the current stream when forward returned "
                               "(correct only after a device-wide synchronize: work left on "
                               "another stream)")
        else:
            result["issue"] = f"output mismatch: max abs diff {result['max_abs_diff']:.3g} " \
                              f"exceeds allclose(atol={tol}, rtol={tol})"
    return result


def run_trial(model, model_new, get_inputs, device, seed, flags_before):
    """One KernelBench correctness trial plus the input-unchanged and flags guards."""
    set_seed(seed)
    inputs = to_device(get_inputs(), device)
    with torch.no_grad():
        ref = model(*inputs)
        torch.cuda.synchronize()
        originals = [v.clone() if isinstance(v, torch.Tensor) else v for v in inputs]
        out = model_new(*inputs)
        read = out.clone() if isinstance(out, torch.Tensor) else out
        torch.cuda.synchronize()
    result = {"seed": seed}
    result.update(compare_outputs(ref, read, out))
    unchanged = all(torch.equal(a, b) for a, b in zip(originals, inputs)
                    if isinstance(a, torch.Tensor))
    result["inputs_unchanged"] = unchanged
    flags = check_flags(flags_before, f"trial with seed {seed}")
    result["flags_unchanged"] = flags["passed"]
    issues = [result.get("issue")] if "issue" in result else []
    if not unchanged:
        issues.append("ModelNew modified its input")
    if not flags["passed"]:
        issues.append(flags["issue"])
    if issues:
        result["passed"] = False
        result["issue"] = "; ".join(issues)
    return result


def check_output_depends_on_input(model_new, get_inputs, device, seeds):
    """Guard: two different inputs give two different outputs (no cached or constant result).
    The first input is freed before the second is made, so a cache keyed on the input's address
    sees the same address again."""
    outputs, first_input = [], None
    for seed in seeds:
        set_seed(seed)
        inputs = to_device(get_inputs(), device)
        if first_input is None:
            first_input = [v.cpu() if isinstance(v, torch.Tensor) else v for v in inputs]
        elif all(torch.equal(a, b.cpu()) for a, b in zip(first_input, inputs)
                 if isinstance(a, torch.Tensor)):
            return {"passed": True, "note": "get_inputs() returned the same input for both seeds; "
                                            "not applicable"}
        with torch.no_grad():
            out = model_new(*inputs)
            torch.cuda.synchronize()
        outputs.append(out.clone())
        del inputs, out
    if isinstance(outputs[0], torch.Tensor) and torch.equal(outputs[0], outputs[1]):
        return {"passed": False,
                "issue": "ModelNew returned identical outputs for two different inputs"}
    return {"passed": True}


def check_stream_timing(new_times, ref_times):
    """Guard: the call's work is finished when its end event on the current stream is reached.
    `synced - event` is the work still running elsewhere when the call returned plus synchronize
    latency; the reference (all on the current stream) gives the latency."""
    def gap(t):
        return statistics.median(t["synced_ms"]) - statistics.median(t["event_ms"])

    new_gap, ref_gap = gap(new_times), gap(ref_times)
    limit = ref_gap + 0.05 + 0.1 * statistics.median(new_times["synced_ms"])
    result = {"passed": new_gap <= limit, "gap_ms": new_gap, "reference_gap_ms": ref_gap,
              "limit_ms": limit}
    if not result["passed"]:
        result["issue"] = (f"ModelNew's work ends {new_gap:.3f} ms after its end event on the "
                           f"current stream (reference: {ref_gap:.3f} ms): work left running on "
                           f"another stream is not counted by KernelBench's events")
    return result


