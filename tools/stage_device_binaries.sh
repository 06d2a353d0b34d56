#!/usr/bin/env bash
# Builds the test and benchmark binaries here and copies them into .carry/bin, the folder the
# device tool carries to the GPU machine (which has no Bazel). See docs/benchmarking.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //tests:all //benchmarks:all //conv:libconvgemm.so
rm -rf .carry/bin && mkdir -p .carry/bin
bin=$(bazel info bazel-bin)
for f in "$bin"/tests/cpu_*_test "$bin"/tests/gpu_*_test "$bin"/benchmarks/conv_bench "$bin"/benchmarks/im2col_gemm_tune \
         "$bin"/conv/libconvgemm.so; do
  # ELF files only (sh_test scripts need Bazel's runfiles and run here in CI).
  [[ -f $f && -x $f ]] && head -c 4 "$f" | grep -q ELF && cp "$f" .carry/bin/
done
ls -l .carry/bin
