#!/usr/bin/env bash
# Runs NVIDIA compute-sanitizer (memcheck with leak checking, racecheck, initcheck, synccheck)
# over the GPU test binaries staged by tools/stage_device_binaries.sh, on the GPU machine.
# The suites' shapes are already small; gpu_direct_large_test (a 2 GB output) is left out.
# Every algorithm runs: DIRECT (all tile kinds, depthwise included) and IM2COL_GEMM (graphs,
# streams, cuBLASLt) through gpu_direct_test, gpu_im2col_gemm_test and gpu_api_test, which
# also creates and destroys handles repeatedly (leaks show up in memcheck's leak report).
# Usage: [BINS="gpu_direct_test ..."] [SANITIZE_TIMEOUT=s] tools/sanitize_device.sh [TOOL ...]
#        (default: all four tools over all the binaries below); logs in $OUT or ./sanitize_out
# Each line of the summary: tool, binary, exit status, compute-sanitizer's ERROR SUMMARY line.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-sanitize_out}
mkdir -p "$out/sanitize"
tools=("$@")
[[ ${#tools[@]} -eq 0 ]] && tools=(memcheck racecheck initcheck synccheck)
read -r -a bins <<<"${BINS:-gpu_api_test gpu_nonfinite_test gpu_tf32_round_test gpu_direct_test gpu_im2col_gemm_test gpu_threads_test}"
status=0
for tool in "${tools[@]}"; do
  extra=()
  [[ $tool == memcheck ]] && extra=(--leak-check full)
  for b in "${bins[@]}"; do
    log="$out/sanitize/$tool.$b.log"
    # CK_FORK=no: Check would otherwise run each case in a child process the tool doesn't follow.
    CK_FORK=no timeout "${SANITIZE_TIMEOUT:-300}" compute-sanitizer --tool "$tool" "${extra[@]}" \
      --error-exitcode 99 ".carry/bin/$b" >"$log" 2>&1
    rc=$?
    summary=$(grep -E "ERROR SUMMARY|LEAK SUMMARY|RACECHECK SUMMARY" "$log" | tr '\n' ' ')
    [[ $rc -ne 0 ]] && status=1
    printf '%-10s %-22s rc=%-3s %s\n' "$tool" "$b" "$rc" "$summary" | tee -a "$out/sanitize/summary.txt"
  done
done
exit $status
