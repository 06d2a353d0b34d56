#!/usr/bin/env bash
# Runs on the GPU machine over binaries staged by stage_device_binaries.sh: every test binary,
# then the benchmark (arguments passed through). Results go to $OUT (or ./device_out): the
# benchmark's table and JSON, and every test log in logs.tar.gz (the device tool returns at most
# 8 files).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-device_out}
mkdir -p "$out/logs"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/card.txt"
status=0
for t in .carry/bin/cpu_*_test .carry/bin/gpu_*_test; do
  [[ -x $t ]] || continue
  name=$(basename "$t")
  echo "== $name"
  if ! "$t" >"$out/logs/$name.log" 2>&1; then status=1; echo "FAILED: $name"; tail -n 30 "$out/logs/$name.log"; fi
  grep -E '^[0-9]+%: Checks' "$out/logs/$name.log"
done
if [[ ${RUN_BENCH:-1} == 1 && -x .carry/bin/conv_bench ]]; then
  echo "== conv_bench $*"
  .carry/bin/conv_bench --json "$out/bench.json" "$@" 2>"$out/bench.err" | tee "$out/bench.txt" || status=1
  tail -n 5 "$out/bench.err"
fi
tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$out/logs"
exit $status
