#!/usr/bin/env bash
# The include graph between src/ folders points down the architecture's order
# and has no cycle (scripts/check-layers); and the check itself catches an
# upward include planted in a copy of the tree.
#   bash tests/test_layers.sh ALRS SOURCE_DIR
set -u
src=$2
source "$src/tests/common.bash"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if "$py" "$src/scripts/check-layers" "$src" >/dev/null; then ok
else fail "scripts/check-layers: $("$py" "$src/scripts/check-layers" "$src" 2>&1 | tail -3)"; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" && cp -r "$src/src/core" "$src/src/env" "$src/src/rl" "$tmp/src/"
echo '#include "rl/policy.h"' >>"$tmp/src/env/lr_env.c" # env is below rl: an upward include
if out=$("$py" "$src/scripts/check-layers" "$tmp" 2>&1); then fail "an upward include was not caught"
elif echo "$out" | grep -q "includes rl/: upward"; then ok
else fail "the upward include was reported as: $out"; fi
finish
