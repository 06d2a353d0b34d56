"""convgemm through PyTorch against PyTorch's own convolutions, on problem 55 and the other
KernelBench level-1 2-D convolution shapes (shared/problem/kernelbench_conv2d_shapes.md).

For each shape and math setting (TF32 on: PyTorch's default; off: fp32), one layer's weights and
one torch.rand input, timed as convgemm.eval times (CUDA events, L2 flush before every call,
first call discarded; end event after a device-wide synchronize), in inference mode:
  convgemm         convgemm.nn.Conv2d (algorithm AUTO; the chosen one is reported)
  cudnn            nn.Conv2d, cudnn.benchmark False (what KernelBench's reference runs)
  cudnn_benchmark  nn.Conv2d, cudnn.benchmark True
  cudnn_nhwc       nn.Conv2d on channels_last input and weights, laid out before timing
  compile          torch.compile(nn.Conv2d, mode='max-autotune-no-cudagraphs')
Every output is checked against `cudnn` with allclose(1e-4, 1e-4).

  PYTHONPATH=bindings/python python bindings/python/benchmarks/bench_torch.py \\
      [--only 55,56] [--quick] [--no-compile] [--tf32 both|on|off] [--json F] [--markdown F]"""
import argparse
import json
import math
import sys

import torch

import convgemm.nn
from convgemm import eval as cg_eval
from convgemm import functional, timing

COMPILE_MODE = "max-autotune-no-cudagraphs"

# name: (N, C, H, W, K, (R, S), stride, padding, dilation, groups, bias)
SHAPES = {
    "50_stem": (256, 3, 224, 224, 96, (11, 11), 4, 2, 1, 1, True),
    "55": (8, 64, 512, 1024, 128, (3, 3), 1, 0, 1, 1, False),
    "56": (8, 64, 512, 256, 128, (5, 7), 1, 0, 1, 1, False),
    "62": (8, 32, 512, 512, 64, (5, 9), 1, 0, 1, 1, False),
    "63": (16, 16, 1024, 1024, 128, (3, 3), 1, 0, 1, 1, False),
    "80": (8, 32, 512, 512, 64, (5, 9), 1, (2, 4), (2, 3), 1, False),
    "82_dw": (16, 64, 512, 512, 64, (3, 3), 1, 0, 1, 64, False),
    "83_dw": (64, 8, 512, 512, 8, (3, 1), 1, 0, 1, 8, False),
    "84_dw": (64, 128, 256, 512, 128, (3, 3), 1, 0, 1, 128, False),
    "85_dw": (32, 128, 128, 256, 128, (3, 7), 1, 0, 1, 128, False),
    "86_dw": (16, 64, 512, 512, 64, (3, 3), 1, 1, 1, 64, False),
    "86_pw": (16, 64, 512, 512, 128, (1, 1), 1, 0, 1, 1, False),
    "87_pw": (16, 64, 1024, 1024, 128, (1, 1), 1, 0, 1, 1, False),
}
VARIANTS = ("convgemm", "cudnn", "cudnn_benchmark", "cudnn_nhwc", "compile")
TOL = 1e-4


def layer_args(shape):
    n, c, h, w, k, kernel, stride, padding, dilation, groups, bias = shape
    return (c, k, kernel), dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                                bias=bias)


def flops(shape, out):
    n, c, _, _, k, (r, s), *_, groups, _ = shape
    return 2 * n * k * out.shape[2] * out.shape[3] * (c // groups) * r * s


def build_variants(shape, device, compile_reference):
    """name -> (callable, its input transform), all with the weights of one nn.Conv2d."""
    args, kwargs = layer_args(shape)
    ref = torch.nn.Conv2d(*args, **kwargs).to(device)
    ours = convgemm.nn.Conv2d(*args, **kwargs).to(device)
    ours.load_state_dict(ref.state_dict())
    nhwc = torch.nn.Conv2d(*args, **kwargs).to(device, memory_format=torch.channels_last)
    nhwc.load_state_dict(ref.state_dict())
    variants = {
        "convgemm": (ours, None),
        "cudnn": (ref, None),
        "cudnn_benchmark": (ref, None),
        "cudnn_nhwc": (nhwc, lambda x: x.contiguous(memory_format=torch.channels_last)),
    }
    if compile_reference:
        variants["compile"] = (torch.compile(ref, mode=COMPILE_MODE), None)
    return variants, ours


def run_variant(name, fn, x, reference, warmup, timed):
    row = {"variant": name}
    torch.backends.cudnn.benchmark = name == "cudnn_benchmark"
    try:
        out = fn(x)
        torch.cuda.synchronize()
        if reference is not None:
            row["check_passed"] = bool(torch.allclose(out, reference, atol=TOL, rtol=TOL))
            row["max_abs_diff"] = (out - reference).abs().max().item()
        del out
        t = timing.time_calls(fn, [x], warmup=warmup, timed=timed)
        row.update({"synced": timing.stats(t["synced_ms"]),
                    "kernelbench": timing.stats(t["event_ms"])})
    except Exception as e:  # one variant failing (compile, out of memory) must not stop the run
        row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"
    finally:
        torch.backends.cudnn.benchmark = False
    return row


def bench_shape(name, shape, tf32, args, device):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    n, c, h, w = shape[:4]
    x = torch.rand(n, c, h, w, device=device)
    variants, ours = build_variants(shape, device, args.compile)
    rows = []
    with torch.no_grad():
        reference = variants["cudnn"][0](x)
        torch.cuda.synchronize()
        work = flops(shape, reference)
        layer_kwargs = layer_args(shape)[1]
        algorithm = functional.auto_algorithm(x, ours.weight, ours.bias, **{
            k: v for k, v in layer_kwargs.items() if k != "bias"})
        for variant, (fn, transform) in variants.items():
            xin = transform(x) if transform is not None else x
            row = run_variant(variant, fn, xin, reference, args.warmup, args.timed)
            del xin
            row.update({"shape": name, "tf32": tf32, "gflop": work / 1e9})
            if variant == "convgemm":
                row["algorithm"] = algorithm
            if "synced" in row:
                row["tflops"] = work / (row["synced"]["median"] * 1e-3) / 1e12
            rows.append(row)
            print(format_row(row), flush=True)
        del reference
    cudnn = next((r for r in rows if r["variant"] == "cudnn" and "synced" in r), None)
    for row in rows:
        if cudnn is not None and "synced" in row:
            row["vs_cudnn"] = cudnn["synced"]["median"] / row["synced"]["median"]
    torch._dynamo.reset()
    return rows


def format_row(row):
    label = f"{row['shape']:8s} {'tf32' if row['tf32'] else 'fp32':4s} {row['variant']:16s}"
    if "error" in row:
        return f"{label} error: {row['error']}"
    check = "PASS" if row.get("check_passed") else f"FAIL ({row.get('max_abs_diff', 0):.1e})"
    algo = f" [{row['algorithm']}]" if "algorithm" in row else ""
    return (f"{label} median {row['synced']['median']:8.3f} ms  mean {row['synced']['mean']:8.3f}"
            f" ms  {row['tflops']:6.1f} TFLOP/s  check {check}{algo}")


def markdown(rows, env):
    lines = [f"{env['card']}, driver {env['driver']}, torch {env['torch']}, CUDA {env['cuda']}, "
             f"cuDNN {env['cudnn']}, convgemm {env.get('convgemm')}. Times: CUDA events, L2 "
             f"flushed before each call, end event after a device-wide synchronize.", "",
             "| shape | math | variant | median ms | mean ms | TFLOP/s | vs cuDNN (median) | "
             "check vs cuDNN (1e-4) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        variant = r["variant"] + (f" ({r['algorithm']})" if "algorithm" in r else "")
        math_mode = "TF32" if r["tf32"] else "fp32"
        if "error" in r:
            lines.append(f"| {r['shape']} | {math_mode} | {variant} | error: "
                         f"{r['error'][:80]} | | | | |")
            continue
        check = "reference" if r["variant"] == "cudnn" else (
            "PASS" if r["check_passed"] else "FAIL") + f", {r['max_abs_diff']:.1e}"
        lines.append(f"| {r['shape']} | {math_mode} | {variant} | {r['synced']['median']:.3f} | "
                     f"{r['synced']['mean']:.3f} | {r['tflops']:.1f} | "
                     f"{r.get('vs_cudnn', math.nan):.2f}x | {check} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated shape names or prefixes (55,86)")
    parser.add_argument("--quick", action="store_true",
                        help="10 timed calls, 1 warm-up, no torch.compile")
    parser.add_argument("--no-compile", dest="compile", action="store_false",
                        help="skip torch.compile")
    parser.add_argument("--tf32", choices=("both", "on", "off"), default="both")
    parser.add_argument("--timed", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", default="bench_torch.json")
    parser.add_argument("--markdown", default="bench_torch.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.timed, args.warmup, args.compile = 10, 1, False
    if not torch.cuda.is_available():
        print("bench_torch: needs a CUDA GPU", file=sys.stderr)
        return 1
    wanted = args.only.split(",") if args.only else None
    shapes = {name: s for name, s in SHAPES.items()
              if wanted is None or any(name == w or name.startswith(w + "_") for w in wanted)}
    if not shapes:
        print(f"bench_torch: no shape matches {args.only}; shapes: {', '.join(SHAPES)}",
              file=sys.stderr)
        return 1
    device = torch.device("cuda", torch.cuda.current_device())
    env = cg_eval.environment(device)
    print(f"{env['card']} (sm {env['compute_capability']}, driver {env['driver']}), torch "
          f"{env['torch']}, CUDA {env['cuda']}, cuDNN {env['cudnn']}, convgemm {env['convgemm']}")
    settings = {"on": [True], "off": [False], "both": [True, False]}[args.tf32]
    flags = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    rows = []
    try:
        for name, shape in shapes.items():
            for tf32 in settings:
                rows += bench_shape(name, shape, tf32, args, device)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags
    report = {"environment": env, "settings": {k: v for k, v in vars(args).items()},
              "rows": rows}
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    with open(args.markdown, "w") as f:
        f.write(markdown(rows, env))
    print(f"wrote {args.json} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
