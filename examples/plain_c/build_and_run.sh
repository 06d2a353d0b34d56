#!/usr/bin/env bash
# Builds examples/consumer/app.c with plain gcc against libconvgemm.so (no Bazel in the link) and
# runs it: the README's "Without Bazel" route, checked. The program's host checks run anywhere;
# its GPU part runs where a device is found. Its last line is a Check-style summary.
#
# Usage: examples/plain_c/build_and_run.sh [DIR_WITH_libconvgemm.so]
#   Without an argument it builds //conv:libconvgemm.so with Bazel first and takes it from there.
#   The program and a copy of the library go to examples/plain_c/build/ (ignored by git).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cuda=/usr/local/cuda
if (($# > 0)); then
  lib_dir=$1
else
  (cd "$repo" && bazel build //conv:libconvgemm.so >/dev/null 2>&1) ||
    { echo "build_and_run.sh: bazel build //conv:libconvgemm.so failed" >&2; exit 1; }
  lib_dir=$(cd "$repo" && bazel info bazel-bin 2>/dev/null)/conv
fi
out=$repo/examples/plain_c/build
mkdir -p "$out"
# The library next to the program, found through $ORIGIN: the program does not depend on where
# Bazel's cache is.
install -m 0755 "$lib_dir/libconvgemm.so" "$out/libconvgemm.so"

# -lcudart: the program calls the CUDA runtime itself (cudaMalloc, streams); libconvgemm.so keeps
# its own static copy and exports only convgemm_* symbols. cuBLASLt is not named here:
# libconvgemm.so records it (NEEDED libcublasLt.so.13, RUNPATH /usr/local/cuda/lib64).
gcc -std=c11 -O2 -Wall -Wextra -Werror \
  -I"$repo" -I"$cuda/include" \
  "$repo/examples/consumer/app.c" -o "$out/app" \
  -L"$out" -lconvgemm -L"$cuda/lib64" -lcudart -lm \
  -Wl,-rpath,'$ORIGIN' -Wl,-rpath,"$cuda/lib64"
"$out/app"
