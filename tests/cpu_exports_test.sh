#!/usr/bin/env bash
# libconvgemm.so must export exactly the functions declared in conv/convgemm.h.
# Prints a Check-style summary line so CI counts it like the Check suites.
set -uo pipefail
lib=$1
header=$2
declared=$(grep -oE '\bconvgemm_[a-z0-9_]+ *\(' "$header" | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort -u)
if [[ "$declared" == "$exported" ]]; then
  echo "100%: Checks: 1, Failures: 0, Errors: 0"
  exit 0
fi
echo "declared in $header but not exported, or exported but not declared:"
diff <(echo "$declared") <(echo "$exported")
echo "0%: Checks: 1, Failures: 1, Errors: 0"
exit 1
