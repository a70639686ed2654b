#!/usr/bin/env bash
# Installs what burla needs to build, test and benchmark on Debian 12 (idempotent).
set -euo pipefail
packages=(build-essential cmake g++ libgtest-dev
          openmpi-bin libopenmpi-dev
          libboost-serialization-dev libboost-program-options-dev
          libhdf5-dev hdf5-tools
          slurm-wlm munge
          clang-14 libclang-rt-14-dev
          python3-mpi4py python3-h5py
          tmux)  # a real terminal for the Ctrl-C tests
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "burla setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
