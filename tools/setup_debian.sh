#!/usr/bin/env bash
# Installs what building and testing convgemm needs on Debian 12 (the CUDA toolkit itself must
# already be in /usr/local/cuda). Safe to run again; does nothing when all is there.
set -euo pipefail
# gcc/g++ build the host code (and examples/plain_c); libasan8 and libubsan1 are the sanitizer
# runtimes of gcc 12 that .bazelrc's asan config links; python3-pytest runs the Python binding's
# tests (those needing torch or a GPU skip themselves).
packages=(bazel-bootstrap bazel-platforms bazel-rules-java check libsubunit-dev gcc g++ libasan8
          libubsan1 python3-pytest)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup_debian.sh: the CUDA toolkit is missing: expected /usr/local/cuda/bin/nvcc" >&2
  exit 1
fi
