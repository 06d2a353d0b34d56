#!/usr/bin/env python3
"""Plots a conv_bench JSON file (conv_bench --json PATH) as one PNG.

    python3 benchmarks/plot_results.py results.json out.png [--title TEXT]

Needs matplotlib (pip install matplotlib); it is not a dependency of the build.

Panels:
  * one per math mode: per shape, bars of the median ms of direct, im2col_gemm, implicit_gemm
    and cudnn (log
    scale); a hatched bar is a row that FAILed its check, a missing bar a row that was skipped or
    not run;
  * when the file holds small_channels shapes, one per math mode: median ms against C/G (both axes
    log 2) for direct and im2col_gemm, the "dense" series (C = K, groups 1) and the "grouped"
    series (C = K = 64; its C/G = 64 point is dense_C64), cudnn dashed, with the first C/G at which
    im2col_gemm beats direct marked.
"""

import argparse
import json
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("plot_results.py needs matplotlib: pip install matplotlib")

BAR_ALGOS = ("direct", "im2col_gemm", "implicit_gemm", "cudnn")
COLORS = {"direct": "tab:blue", "im2col_gemm": "tab:orange", "implicit_gemm": "tab:green",
          "cudnn": "tab:gray"}


def row_of(shape, algo, math):
    """The row of `algo` in `math` mode, or None."""
    for row in shape.get("rows", []):
        if row.get("algorithm") == algo and row.get("math") == math:
            return row
    return None


def median_of(shape, algo, math):
    """(median ms or None, failed?) of a row."""
    row = row_of(shape, algo, math)
    if row is None or row.get("median_ms") is None:
        return None, False
    return row["median_ms"], row.get("check") in ("FAIL", "ERROR")


def maths_of(data):
    maths = data.get("maths")
    if maths:
        return maths
    seen = []
    for shape in data.get("shapes", []):
        for row in shape.get("rows", []):
            if row.get("math") not in seen:
                seen.append(row.get("math"))
    return seen


def plot_bars(ax, shapes, math):
    n = len(shapes)
    width = 0.8 / len(BAR_ALGOS)
    all_ms = []
    for i, algo in enumerate(BAR_ALGOS):
        xs, heights, hatches = [], [], []
        for j, shape in enumerate(shapes):
            ms, failed = median_of(shape, algo, math)
            if ms is None or ms <= 0:
                continue
            xs.append(j + (i - (len(BAR_ALGOS) - 1) / 2) * width)
            heights.append(ms)
            hatches.append("//" if failed else "")
        all_ms.extend(heights)
        bars = ax.bar(xs, heights, width, color=COLORS[algo])
        for bar, hatch in zip(bars, hatches):
            if hatch:
                bar.set_hatch(hatch)
                bar.set_edgecolor("red")
    ax.set_yscale("log")
    if all_ms:
        ax.set_ylim(min(all_ms) / 3, max(all_ms) * 2)
    ax.set_ylabel("median ms (log)")
    ax.set_xticks(range(n))
    ax.set_xticklabels([s["name"] for s in shapes], rotation=75, ha="right", fontsize=8)
    ax.set_xlim(-0.6, n - 0.4)
    # A line between suites.
    for j in range(1, n):
        if shapes[j].get("suite") != shapes[j - 1].get("suite"):
            ax.axvline(j - 0.5, color="black", linewidth=0.8, alpha=0.5)
    ax.grid(axis="y", which="both", alpha=0.3)
    handles = [Patch(color=COLORS[a], label=a) for a in BAR_ALGOS]
    ax.legend(handles=handles, loc="upper left", fontsize=8, ncol=len(BAR_ALGOS))
    ax.set_title("%s math: direct / im2col_gemm / implicit_gemm / cudnn per shape (hatched red: "
                 "FAILed check)"
                 % math)


def small_channel_series(shapes):
    """{'dense': [(C/G, shape)], 'grouped': [(C/G, shape)]}, each sorted by C/G."""
    small = [s for s in shapes if s.get("suite") == "small_channels"]
    series = {"dense": [], "grouped": []}
    grouped_c = {s["shape"]["c"] for s in small if s.get("series") == "grouped"}
    for s in small:
        cpg = s["shape"]["c"] // s["shape"]["groups"]
        if s.get("series") in series:
            series[s["series"]].append((cpg, s))
        # The grouped series ends at C/G = C: the dense shape of the same C.
        if s.get("series") == "dense" and s["shape"]["c"] in grouped_c:
            series["grouped"].append((cpg, s))
    for key in series:
        series[key].sort(key=lambda item: item[0])
    return series


def crossover(points_direct, points_gemm):
    """The first C/G at which im2col_gemm is faster than direct, or None."""
    gemm = dict(points_gemm)
    for cpg, ms in points_direct:
        if cpg in gemm and gemm[cpg] < ms:
            return cpg
    return None


def plot_small_channels(ax, series, math):
    styles = {"dense": "-", "grouped": "--"}
    markers = {"direct": "o", "im2col_gemm": "s", "implicit_gemm": "D", "cudnn": "^"}
    notes = []
    for name, items in series.items():
        if not items:
            continue
        pts = {}
        for algo in BAR_ALGOS:
            pts[algo] = []
            for cpg, shape in items:
                ms, _ = median_of(shape, algo, math)
                if ms is not None and ms > 0:
                    pts[algo].append((cpg, ms))
            if not pts[algo]:
                continue
            style = ":" if algo == "cudnn" else styles[name]
            ax.plot([p[0] for p in pts[algo]], [p[1] for p in pts[algo]], style,
                    marker=markers[algo], color=COLORS[algo], alpha=0.6 if algo == "cudnn" else 1,
                    label="%s, %s" % (algo, name))
        cross = crossover(pts["direct"], pts["im2col_gemm"])
        if cross is not None:
            ax.axvline(cross, color="tab:red", linestyle=styles[name], alpha=0.5)
            notes.append("%s: im2col_gemm < direct from C/G = %d" % (name, cross))
        else:
            notes.append("%s: im2col_gemm never below direct" % name)
    ax.set_xscale("log", base=2)
    ticks = sorted({cpg for items in series.values() for cpg, _ in items})
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_yscale("log")
    ax.set_xlabel("C/G (dense: C = K, groups 1; grouped: C = K = 64)")
    ax.set_ylabel("median ms (log)")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.set_title("%s math, small_channels: N=8, 256x256, 3x3, pad 1\n%s"
                 % (math, "; ".join(notes)), fontsize=9)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", help="conv_bench --json output")
    parser.add_argument("png", help="the PNG to write")
    parser.add_argument("--title", help="figure title (default: the card and versions)")
    args = parser.parse_args(argv)

    with open(args.json) as f:
        data = json.load(f)
    shapes = data.get("shapes")
    if shapes is None:
        sys.exit("%s: no 'shapes' list; is it conv_bench's JSON (schema 2)?" % args.json)
    if not shapes:
        sys.exit("%s: no shapes were run" % args.json)
    maths = maths_of(data)
    series = small_channel_series(shapes)
    have_small = any(series.values())

    n_panels = len(maths) * (2 if have_small else 1)
    width = max(10.0, 0.32 * len(shapes) + 3.0)
    fig, axes = plt.subplots(n_panels, 1, figsize=(width, 4.8 * n_panels), squeeze=False)
    axes = [a[0] for a in axes]
    for i, math in enumerate(maths):
        plot_bars(axes[i], shapes, math)
    if have_small:
        for i, math in enumerate(maths):
            plot_small_channels(axes[len(maths) + i], series, math)

    device = data.get("device", {}).get("name", "?")
    versions = data.get("versions", {})
    title = args.title or "conv_bench on %s (cuDNN %s, convgemm %s, CUDA %s)%s" % (
        device, versions.get("cudnn") or "not found", versions.get("convgemm", "?"),
        versions.get("cuda_runtime", "?"),
        "" if data.get("finished", True) else " (partial run)")
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / (4.8 * n_panels)))
    fig.savefig(args.png, dpi=110)
    print("wrote %s (%d shapes, math modes: %s)" % (args.png, len(shapes), ", ".join(maths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
