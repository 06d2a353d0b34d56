#!/usr/bin/env bash
# Runs NVIDIA compute-sanitizer over the GPU test binaries staged by tools/stage_device_binaries.sh,
# on the GPU machine:
#   memcheck --leak-check full   the full suites (every case of every algorithm) and
#                                gpu_sanitize_test, whose handle create/use/destroy loop makes
#                                leaks show in the leak report
#   racecheck, initcheck,        gpu_sanitize_test (every kernel: DIRECT's tile kinds incl.
#   synccheck                    depthwise and GENERIC, IM2COL_GEMM at its minimum and preferred
#                                workspace with bias, IMPLICIT_GEMM's wgmma and mma.sync kernels,
#                                AUTO, on tiny shapes with partial tiles, padding, stride 2 and
#                                groups) plus the binaries that are fast under every tool. These
#                                tools cost far more per launch (racecheck over gpu_direct_test
#                                alone took > 70 s on reduced shapes), so the full suites stay
#                                memcheck's.
# Left out everywhere: gpu_direct_large_test (tensors past 2^31 elements, up to 26 GB) and
# gpu_fault_test (it faults the device on purpose, and forks).
# Usage: [MEMCHECK_BINS="..."] [FAST_BINS="..."] [BINS="..."] [SANITIZE_TIMEOUT=s]
#        tools/sanitize_device.sh [TOOL ...]
#        (default: all four tools; BINS, if set, replaces both lists); logs in $OUT or ./sanitize_out
# Each line of the summary: tool, binary, exit status, compute-sanitizer's ERROR SUMMARY line.
set -uo pipefail
cd "$(dirname "$0")/.."
# gpu_threads_test's 8-thread test makes ~29,000 calls at its default 300 rounds: 3 under the tools.
export CONVGEMM_THREAD_ROUNDS=${CONVGEMM_THREAD_ROUNDS:-3}
out=${OUT:-sanitize_out}
mkdir -p "$out/sanitize"
tools=("$@")
[[ ${#tools[@]} -eq 0 ]] && tools=(memcheck racecheck initcheck synccheck)
read -r -a memcheck_bins <<<"${BINS:-${MEMCHECK_BINS:-gpu_sanitize_test gpu_api_test gpu_nonfinite_test gpu_tf32_round_test gpu_wgmma_test gpu_mma_test gpu_direct_test gpu_im2col_gemm_test gpu_threads_test}}"
read -r -a fast_bins <<<"${BINS:-${FAST_BINS:-gpu_sanitize_test gpu_api_test gpu_tf32_round_test gpu_wgmma_test gpu_mma_test}}"
status=0
for tool in "${tools[@]}"; do
  extra=()
  bins=("${fast_bins[@]}")
  if [[ $tool == memcheck ]]; then
    extra=(--leak-check full)
    bins=("${memcheck_bins[@]}")
  fi
  for b in "${bins[@]}"; do
    log="$out/sanitize/$tool.$b.log"
    if [[ ! -x .carry/bin/$b ]]; then
      status=1
      printf '%-10s %-22s not staged in .carry/bin\n' "$tool" "$b" | tee -a "$out/sanitize/summary.txt"
      continue
    fi
    # CK_FORK=no: Check would otherwise run each case in a child process the tool doesn't follow.
    start=$SECONDS
    CK_FORK=no timeout "${SANITIZE_TIMEOUT:-300}" compute-sanitizer --tool "$tool" "${extra[@]}" \
      --error-exitcode 99 ".carry/bin/$b" >"$log" 2>&1
    rc=$?
    summary=$(grep -E "ERROR SUMMARY|LEAK SUMMARY|RACECHECK SUMMARY" "$log" | tr '\n' ' ')
    [[ $rc -ne 0 ]] && status=1
    printf '%-10s %-22s rc=%-3s %4ss %s\n' "$tool" "$b" "$rc" "$((SECONDS - start))" "$summary" \
      | tee -a "$out/sanitize/summary.txt"
  done
done
exit $status
