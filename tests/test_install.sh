#!/usr/bin/env bash
# cmake --install into a temporary prefix, then use what it installed as a
# user would: the example program built from its own CMake project with
# find_package(alrs), and again with pkg-config; the alrs program; the Python
# package from the prefix's dist-packages. Each runs on the committed
# LeNet-5 controller.
#   bash tests/test_install.sh ALRS SOURCE_DIR
set -u
alrs=$1 src=$2
build=$(cd "$(dirname "$alrs")" && pwd)
source "$src/tests/common.bash"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
ctl=$src/results/fashion-mnist-lenet5-controller/controller.bin

if cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then ok
else fail "cmake --install: $(tail -5 "$tmp/install.log")"; fi
for f in bin/alrs include/alrs/alrs.h lib/libalrs.so lib/cmake/alrs/alrsConfig.cmake \
         lib/cmake/alrs/alrsTargets.cmake lib/pkgconfig/alrs.pc; do
    if [ -e "$prefix/$f" ]; then ok; else fail "$f not installed"; fi
done
# no internal header leaks: alrs.h is the whole public interface
if [ "$(find "$prefix/include" -name '*.h' | wc -l)" = 1 ]; then ok
else fail "installed headers: $(find "$prefix/include" -name '*.h')"; fi

# a separate CMake project: find_package(alrs) -> alrs::alrs
if cmake -S "$src/examples/c" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$prefix" \
       >"$tmp/example.log" 2>&1 && cmake --build "$tmp/example" >>"$tmp/example.log" 2>&1; then ok
else fail "the example with find_package: $(tail -5 "$tmp/example.log")"; fi
lib=$prefix/lib/libalrs.so
if LD_LIBRARY_PATH="$prefix/lib" run_host "$lib" "$tmp/example/controller_demo" "$ctl" 200 >"$tmp/run.out" 2>&1 &&
   grep -q "^step  200 " "$tmp/run.out"; then ok
else fail "controller_demo (CMake): $(tail -5 "$tmp/run.out")"; fi

# and through pkg-config
if PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc -o "$tmp/demo-pc" "$src/examples/c/controller_demo.c" \
       $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs alrs) -lm \
       >"$tmp/pc.log" 2>&1; then ok
else fail "the example with pkg-config: $(tail -5 "$tmp/pc.log")"; fi
if LD_LIBRARY_PATH="$prefix/lib" run_host "$lib" "$tmp/demo-pc" "$ctl" 100 >"$tmp/run-pc.out" 2>&1 &&
   grep -q "^step  100 " "$tmp/run-pc.out"; then ok
else fail "controller_demo (pkg-config): $(tail -5 "$tmp/run-pc.out")"; fi

# the installed program says its version
if "$prefix/bin/alrs" --version | grep -q "^alrs 1\.0\.0 (git "; then ok
else fail "alrs --version: $("$prefix/bin/alrs" --version 2>&1)"; fi

# the installed Python package finds the installed library
py=/usr/bin/python3
[ -x "$py" ] || py=python3
site=$(find "$prefix" -type d -name dist-packages | head -1)
if PYTHONPATH="$site" run_host "$lib" "$py" -c "
import alrs, sys
c = alrs.Controller(sys.argv[1])
assert c.info['n_features'] == 10 and c.info['format_version'] == 2, c.info
assert 'progress' in c.info['features'] and c.info['base'] == 'warmup-cosine', c.info
assert alrs.version().startswith('1.0.0 (git ')
import alrs._paths as p
assert p.library_candidates()[0].startswith(sys.argv[2]), p.library_candidates()
" "$ctl" "$prefix" >"$tmp/py.log" 2>&1; then ok
else fail "the installed Python package: $(tail -5 "$tmp/py.log")"; fi
finish
