#!/usr/bin/env bash
# The include graph between src/ folders points down the architecture's order
# and has no cycle, and no folder's files include each other in a circle
# (scripts/check-layers); and the check itself catches, planted in a copy of
# the tree, an upward include, the public library including the program's
# commands (api -> cli), a circle between the files of one folder, and nn/'s
# two backends including each other (or a oneDNN header in the native one).
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
# the library below the program: src/api must not include src/cli
rm -rf "$tmp/src" && mkdir -p "$tmp/src" && cp -r "$src/src/core" "$src/src/api" "$src/src/cli" "$tmp/src/"
echo '#include "cli/commands.h"' >>"$tmp/src/api/api_status.c"
if out=$("$py" "$src/scripts/check-layers" "$tmp" 2>&1); then fail "api -> cli was not caught"
elif echo "$out" | grep -q "api/api_status.c includes cli/: upward"; then ok
else fail "api -> cli was reported as: $out"; fi
# a circle between two files of one folder: rl/ppo.h includes rl/policy.h; plant the way back
rm -rf "$tmp/src" && mkdir -p "$tmp/src" && cp -r "$src/src/core" "$src/src/env" "$src/src/rl" "$tmp/src/"
echo '#include "rl/ppo.h"' >>"$tmp/src/rl/policy.c"
if out=$("$py" "$src/scripts/check-layers" "$tmp" 2>&1); then fail "a circle between files was not caught"
elif echo "$out" | grep -q "circle between files of one folder: rl/: policy <-> ppo"; then ok
else fail "the circle between files was reported as: $out"; fi
# no circle passes as known: child/ had child <-> eval_point once; plant it back
rm -rf "$tmp/src" && mkdir -p "$tmp/src" && cp -r "$src/src/core" "$src/src/child" "$tmp/src/"
echo '#include "child/child.h"' >>"$tmp/src/child/eval_point.c"
if out=$("$py" "$src/scripts/check-layers" "$tmp" 2>&1); then fail "child <-> eval_point was not caught"
elif echo "$out" | grep -q "circle between files of one folder: child/: child <-> eval_point"; then ok
else fail "child <-> eval_point was reported as: $out"; fi
# the two backends apart: nn/native must not include nn/dnnl (the auto backend's per-layer mix goes
# through nn/layer_standin.h), nor a oneDNN header; nn/dnnl must not include nn/native
rm -rf "$tmp/src" && mkdir -p "$tmp/src" && cp -r "$src/src/core" "$src/src/nn" "$tmp/src/"
echo '#include "nn/dnnl/dnnl_layer.h"' >>"$tmp/src/nn/native/native_net.c"
echo '#include "nn/native/native_net.h"' >>"$tmp/src/nn/dnnl/dnnl_layer.c"
echo '#include <oneapi/dnnl/dnnl.h>' >>"$tmp/src/nn/native/native_net.c"
echo '#include "nn/choice/auto_net.h"' >>"$tmp/src/nn/net.c"
if out=$("$py" "$src/scripts/check-layers" "$tmp" 2>&1); then fail "nn/native <-> nn/dnnl was not caught"
elif echo "$out" | grep -q "native_net.c includes nn/dnnl/: sideways" &&
     echo "$out" | grep -q "dnnl_layer.c includes nn/native/: sideways" &&
     echo "$out" | grep -q "native_net.c includes <oneapi/dnnl/dnnl.h>" &&
     echo "$out" | grep -q "net.c includes nn/choice/: upward"; then ok
else fail "nn/native <-> nn/dnnl was reported as: $out"; fi
finish
