#!/usr/bin/env bash
# Builds and runs tests/consumer/project against burla, either through add_subdirectory
# (mode "subdirectory") or through find_package after `cmake --install` (mode "installed").
set -euo pipefail
mode=$1 source_dir=$2 build_dir=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
if [ "$mode" = installed ]; then
  cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
  cmake -S "$source_dir/tests/consumer/project" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log"
else
  cmake -S "$source_dir/tests/consumer/project" -B "$work/build" -DBURLA_SOURCE_DIR="$source_dir" \
        -DBURLA_BUILD_TESTS=OFF -DBURLA_BUILD_EXAMPLES=OFF -DBURLA_BUILD_BENCH=OFF > "$work/configure.log"
fi
cmake --build "$work/build" -j 2 > "$work/build.log"
"$work/build/consumer"
