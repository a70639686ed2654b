#!/usr/bin/env bash
# Fails when a layer includes a layer above it or beside it (docs/design.md, "Layout"):
#   libburla/include  <-  libburla/core  <-  mpi_runner, slurm  <-  libburla/src  <-  libburla/cli
# Headers of the same folder are included by bare name; others by their path from the root.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

# check FOLDER ALLOWED-PATH-PREFIXES...: every "path/..." include of FOLDER starts with one of them.
check() {
  local folder=$1
  shift
  local allowed=("$@")
  while IFS= read -r line; do
    local file=${line%%:*} inc
    inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
    [[ $inc != */* ]] && continue  # the same folder
    local ok=0
    for prefix in "${allowed[@]}"; do [[ $inc == "$prefix"* ]] && ok=1; done
    if [[ $ok == 0 ]]; then
      echo "layers: $file includes \"$inc\", which $folder may not use" >&2
      status=1
    fi
  done < <(grep -rHn '#include "' "$folder" --include='*.cpp' --include='*.hpp' || true)
}

check libburla/include
check libburla/core libburla/core/
check mpi_runner libburla/core/ mpi_runner/
check slurm libburla/core/ slurm/
check libburla/src libburla/core/ libburla/src/ mpi_runner/src/ slurm/src/
check libburla/cli libburla/core/ libburla/src/

# Only the job's side speaks MPI.
if grep -rln '#include <mpi.h>' libburla slurm; then
  echo "layers: the files above include <mpi.h>; only mpi_runner/ may" >&2
  status=1
fi
# The public headers never reach into the tree.
if grep -rn '#include "' libburla/include; then
  echo "layers: a public header includes a project file; public headers include only <burla/...>" >&2
  status=1
fi
[[ $status == 0 ]] && echo "layers: every include points down"
exit $status
