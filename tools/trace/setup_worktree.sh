#!/usr/bin/env bash
# Turns a scratch checkout of convgemm (never the working tree you commit from) into a trace
# build: instruments conv/implicit_gemm_wgmma.cu (instrument.py), adds //benchmarks:trace55 and
# drops the spill and warning errors from the nvcc flags (the trace's stores cost registers).
# Then: bazel build //benchmarks:trace55, carry bazel-bin/benchmarks/trace55 to the device
# machine, run `trace55 OUT.bin [ieee|bf16]` there (problem 55, one traced call after 10 plain
# ones) and `tools/trace/analyze.py OUT.bin` here.
# Usage: tools/trace/setup_worktree.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$1"
python3 "$here/instrument.py" conv/implicit_gemm_wgmma.cu
cp "$here/trace55.c" benchmarks/
grep -q '"trace55"' benchmarks/BUILD || cat >>benchmarks/BUILD <<'EOB'

cc_binary(
    name = "trace55",
    srcs = ["trace55.c"],
    deps = ["//conv:convgemm", "@cuda//:cuda_headers"],
)
EOB
sed -i '/"-Xptxas=-warn-spills",/d; /--Werror=all-warnings/d' tools/cuda.bzl
