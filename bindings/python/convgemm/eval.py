"""python -m convgemm.eval PROBLEM.py SOLUTION.py [--trials 5 --timed 100 --warmup 3 --json out.json
                                                 --no-compile --tf32 on|off --seed 42]

KernelBench's evaluation of a solution file against a problem file, as its current code does it:
both models built on the CPU after torch.manual_seed(seed) and moved to the GPU; `trials`
correctness trials on fresh get_inputs() with per-trial seeds drawn from the seeded generator,
torch.allclose at 1e-4 (float32) or 1e-2 (fp16/bf16); CUDA-event timing with warm-ups, a 256 MB
L2 flush before each timed call and the first timed call discarded; mean reported.

On top, guards against numbers that lie (each a named entry of the report, all must pass):
  - every output is read by a copy on the current stream right after forward returns, without a
    synchronize, so work left unfinished on another stream fails the trial;
  - each timed call also records an end event after a device-wide synchronize; a solution whose
    work outlasts its end event on the current stream (by more than the reference does) fails;
  - inputs are compared with copies taken before forward (no in-place modification);
  - two different inputs must give two different outputs (no cached or constant result);
  - PyTorch's numerics and algorithm flags (TF32, cudnn.benchmark/deterministic, matmul
    precision, fp32_precision) are snapshotted before the solution is loaded and must be
    unchanged after its construction, every trial and its timing.
Exit status 0 when every trial and guard passes, 1 otherwise. The timings of Model (eager) and
torch.compile(Model, mode='max-autotune-no-cudagraphs') are reported beside ModelNew's; a compile
failure is reported, not fatal."""
import argparse
import importlib.util
import itertools
import json
import subprocess
import sys
import traceback

import torch

from . import _checks, timing

COMPILE_MODE = "max-autotune-no-cudagraphs"
_module_ids = itertools.count()


def load_module(path, role):
    """Executes a problem or solution file as a fresh module (as KernelBench loads them)."""
    name = f"convgemm_eval_{role}_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def environment(device):
    props = torch.cuda.get_device_properties(device)
    env = {
        "card": torch.cuda.get_device_name(device),
        "compute_capability": f"{props.major}.{props.minor}",
        "driver": _driver_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "python": sys.version.split()[0],
    }
    try:
        from . import _lib

        env["convgemm"] = ".".join(map(str, _lib.version()))
        env["convgemm_library"] = str(_lib.load().path)
    except OSError as e:
        env["convgemm"] = f"not loaded: {e}"
    return env


def _driver_version():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True)
        return out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def _error(stage, e):
    return {"stage": stage, "error": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc()}


def _same_parameters(model, model_new):
    ref, new = model.state_dict(), model_new.state_dict()
    return ref.keys() == new.keys() and all(torch.equal(ref[k], new[k]) for k in ref)


def _time(fn, inputs, warmup, timed, device):
    t = timing.time_calls(fn, inputs, warmup=warmup, timed=timed, device=device)
    return {"kernelbench": timing.stats(t["event_ms"]), "synced": timing.stats(t["synced_ms"]),
            "raw": t}


def evaluate(problem_path, solution_path, *, trials=5, timed=100, warmup=3,
             compile_reference=True, tf32=None, seed=42, device=None):
    """Runs the evaluation and returns the report (a JSON-ready dict; report['passed'])."""
    if not torch.cuda.is_available():
        raise RuntimeError("convgemm.eval needs a CUDA GPU; torch.cuda.is_available() is False")
    device = torch.device(device) if device is not None else \
        torch.device("cuda", torch.cuda.current_device())
    torch.cuda.set_device(device)
    if tf32 is not None:
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
    report = {
        "problem": str(problem_path), "solution": str(solution_path),
        "environment": environment(device),
        "settings": {"trials": trials, "timed": timed, "warmup": warmup, "seed": seed,
                     "tf32": "pytorch default" if tf32 is None else tf32,
                     "compile_reference": compile_reference, "device": str(device)},
        "guards": {}, "trials": [], "timings": {}, "passed": False,
    }
    flags_before = _checks.snapshot_flags()
    report["flags"] = flags_before
    guards = report["guards"]

    problem = load_module(problem_path, "problem")
    try:
        solution = load_module(solution_path, "solution")
        _checks.set_seed(seed)
        init_inputs = problem.get_init_inputs()
        with torch.no_grad():
            _checks.set_seed(seed)
            model = problem.Model(*init_inputs)
            _checks.set_seed(seed)
            model_new = solution.ModelNew(*init_inputs)
        model, model_new = model.to(device), model_new.to(device)
        torch.cuda.synchronize()
    except Exception as e:
        report["error"] = _error("loading and building ModelNew", e)
        return report
    report["parameters_identical"] = _same_parameters(model, model_new)
    guards["flags_after_construction"] = _checks.check_flags(flags_before, "construction")

    try:
        for trial_seed in _checks.trial_seeds(seed, trials):
            report["trials"].append(_checks.run_trial(model, model_new, problem.get_inputs,
                                                      device, trial_seed, flags_before))
        guards["output_depends_on_input"] = _checks.check_output_depends_on_input(
            model_new, problem.get_inputs, device, [seed + 1, seed + 2])
        guards["flags_after_trials"] = _checks.check_flags(flags_before, "the trials")
    except Exception as e:
        report["error"] = _error("correctness trials", e)
        return report
    correct = bool(report["trials"]) and all(t["passed"] for t in report["trials"])
    report["correct"] = correct
    if not correct or not all(g["passed"] for g in guards.values()):
        return _finish(report)

    _checks.set_seed(seed)
    inputs = _checks.to_device(problem.get_inputs(), device)
    timings = report["timings"]
    try:
        timings["model_new"] = _time(model_new, inputs, warmup, timed, device)
    except Exception as e:
        report["error"] = _error("timing ModelNew", e)
        return _finish(report)
    guards["flags_after_timing"] = _checks.check_flags(flags_before, "timing")
    timings["model_eager"] = _time(model, inputs, warmup, timed, device)
    guards["stream_timing"] = _checks.check_stream_timing(timings["model_new"]["raw"],
                                                          timings["model_eager"]["raw"])
    if compile_reference:
        try:
            compiled = torch.compile(model, mode=COMPILE_MODE)
            compiled(*inputs)
            timings["model_compiled"] = _time(compiled, inputs, warmup, timed, device)
        except Exception as e:
            timings["model_compiled"] = {"failed": True, "error": f"{type(e).__name__}: "
                                                                  f"{str(e)[:2000]}"}
        finally:
            torch._dynamo.reset()
    report["speedups"] = _speedups(timings)
    return _finish(report)


def _finish(report):
    report["passed"] = bool(report.get("correct")) and "error" not in report and \
        all(g["passed"] for g in report["guards"].values())
    return report


def _speedups(timings):
    new = timings["model_new"]
    speedups = {}
    for name, ref in (("vs_eager", timings.get("model_eager")),
                      ("vs_compile", timings.get("model_compiled"))):
        if ref is None or ref.get("failed"):
            continue
        speedups[name] = {
            "mean": ref["synced"]["mean"] / new["synced"]["mean"],
            "median": ref["synced"]["median"] / new["synced"]["median"],
            "kernelbench_mean": ref["kernelbench"]["mean"] / new["kernelbench"]["mean"],
        }
    return speedups


def format_report(report):
    """The human-readable summary main() prints."""
    env = report["environment"]
    lines = [f"card: {env['card']} (sm {env['compute_capability']}, driver {env['driver']}); "
             f"torch {env['torch']}, CUDA {env['cuda']}, cuDNN {env['cudnn']}; "
             f"convgemm {env.get('convgemm')}",
             f"problem: {report['problem']}", f"solution: {report['solution']}",
             f"settings: {report['settings']}",
             "flags: " + ", ".join(f"{k}={v}" for k, v in report["flags"].items())]
    if "parameters_identical" in report:
        lines.append(f"parameters identical to Model's: {report['parameters_identical']}")
    for i, t in enumerate(report["trials"]):
        verdict = "PASS" if t["passed"] else "FAIL"
        diff = t.get("max_abs_diff")
        diff = f"max abs diff {diff:.3g}" if diff is not None else ""
        lines.append(f"trial {i} (seed {t['seed']}): {verdict} {diff}"
                     + (f" -- {t['issue']}" if "issue" in t else ""))
    for name, g in report["guards"].items():
        lines.append(f"guard {name}: {'PASS' if g['passed'] else 'FAIL'}"
                     + (f" -- {g['issue']}" if "issue" in g else ""))
    if "error" in report:
        lines.append(f"error during {report['error']['stage']}: {report['error']['error']}")
    timings = report["timings"]
    if timings:
        lines.append(f"{'ms':24s}{'mean':>9s}{'median':>9s}{'std':>9s}{'min':>9s}{'max':>9s}"
                     f"{'KernelBench mean':>18s}")
        for name, label in (("model_new", "ModelNew"), ("model_eager", "Model (eager)"),
                            ("model_compiled", "Model (torch.compile)")):
            t = timings.get(name)
            if t is None:
                continue
            if t.get("failed"):
                lines.append(f"{label:24s} failed: {t['error'].splitlines()[0][:200]}")
                continue
            s = t["synced"]
            lines.append(f"{label:24s}{s['mean']:9.3f}{s['median']:9.3f}{s['std']:9.3f}"
                         f"{s['min']:9.3f}{s['max']:9.3f}{t['kernelbench']['mean']:18.3f}")
        lines.append("(mean..max: end event after a device-wide synchronize; KernelBench mean: "
                     "end event on the current stream only)")
        for name, s in report.get("speedups", {}).items():
            lines.append(f"speedup {name.replace('_', ' ')}: {s['mean']:.3f}x (mean), "
                         f"{s['median']:.3f}x (median), {s['kernelbench_mean']:.3f}x "
                         f"(KernelBench mean)")
    lines.append("RESULT: " + ("PASS" if report["passed"] else "FAIL"))
    return "\n".join(lines)


def _json_ready(report):
    """The report with what JSON can't hold (dtypes, devices, exceptions) as strings."""
    return json.loads(json.dumps(report, default=str))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convgemm.eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem", help="problem file: Model, get_inputs, get_init_inputs")
    parser.add_argument("solution", help="solution file: ModelNew")
    parser.add_argument("--trials", type=int, default=5, help="correctness trials (5)")
    parser.add_argument("--timed", type=int, default=100, help="timed calls (100)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up calls (3)")
    parser.add_argument("--seed", type=int, default=42, help="seed (42, as KernelBench)")
    parser.add_argument("--json", help="write the full report here")
    parser.add_argument("--no-compile", action="store_true",
                        help=f"skip timing torch.compile(Model, mode='{COMPILE_MODE}')")
    parser.add_argument("--tf32", choices=("on", "off"),
                        help="set torch.backends.cudnn.allow_tf32 and cuda.matmul.allow_tf32 "
                             "first (default: PyTorch's defaults)")
    parser.add_argument("--device", help="CUDA device (default: the current one)")
    args = parser.parse_args(argv)
    try:
        report = evaluate(args.problem, args.solution, trials=args.trials, timed=args.timed,
                          warmup=args.warmup, compile_reference=not args.no_compile,
                          tf32=None if args.tf32 is None else args.tf32 == "on", seed=args.seed,
                          device=args.device)
    except Exception as e:
        print(f"convgemm.eval: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(format_report(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(_json_ready(report), f, indent=1)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
