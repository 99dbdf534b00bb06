#!/usr/bin/env bash
# cmake --install into a temporary prefix, then use what it installed as a
# user would: the example program built from its own CMake project with
# find_package(alrs), and again with pkg-config; the alrs program; the Python
# package from the prefix's dist-packages, and `pip install
# --no-build-isolation` of the source into a fresh virtual environment. Each
# runs on the committed LeNet-5 controller, which is installed and opened by
# name (share/alrs/controllers/fashion-mnist-lenet5.bin).
#   bash tests/test_install.sh ALRS SOURCE_DIR
set -u
alrs=$1 src=$2
build=$(cd "$(dirname "$alrs")" && pwd)
source "$src/tests/common.bash"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
# the project's version, as CMakeLists.txt declares it: what every installed part must say
version=$(sed -n 's/^project(alrs VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
ctl=$src/results/fashion-mnist-lenet5-controller/controller.bin

if cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then ok
else fail "cmake --install: $(tail -5 "$tmp/install.log")"; fi
for f in bin/alrs include/alrs/alrs.h lib/libalrs.so lib/cmake/alrs/alrsConfig.cmake \
         lib/cmake/alrs/alrsTargets.cmake lib/pkgconfig/alrs.pc \
         share/alrs/controllers/fashion-mnist-lenet5.bin; do
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
# without LD_LIBRARY_PATH a pkg-config build starts only with an rpath (docs/API.md)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
if cc -o "$tmp/demo-rpath" "$src/examples/c/controller_demo.c" $(pkg-config --cflags --libs alrs) \
       -Wl,-rpath,"$(pkg-config --variable=libdir alrs)" -lm >"$tmp/rpath.log" 2>&1 &&
   run_host "$lib" "$tmp/demo-rpath" "$ctl" 100 >"$tmp/run-rpath.out" 2>&1 &&
   grep -q "^step  100 " "$tmp/run-rpath.out"; then ok
else fail "controller_demo (pkg-config, rpath): $(tail -5 "$tmp/rpath.log" "$tmp/run-rpath.out")"; fi
unset PKG_CONFIG_PATH

# the installed program opens an installed controller by name (check: no training)
write_idx "$tmp/idx"
if "$prefix/bin/alrs" train --model lenet5 --schedule controller:fashion-mnist-lenet5 --steps 10 \
       --eval-every 10 --data-dir "$tmp/idx" --val-split 100 --check --out "$tmp/named-run" \
       >"$tmp/named.log" 2>&1; then ok
else fail "alrs train --schedule controller:NAME: $(tail -3 "$tmp/named.log")"; fi

# and shows what a controller learned on, also by name
if "$prefix/bin/alrs" info --controller fashion-mnist-lenet5 >"$tmp/info.out" 2>&1 &&
   grep -q "^controller: .*/share/alrs/controllers/fashion-mnist-lenet5.bin$" "$tmp/info.out" &&
   grep -q "^learned_on: not recorded (format 2" "$tmp/info.out"; then ok
else fail "alrs info --controller NAME: $(tail -3 "$tmp/info.out")"; fi

# the installed program says its version
if [ -n "$version" ] && "$prefix/bin/alrs" --version | grep -qF "alrs $version (git "; then ok
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
assert alrs.version().startswith(sys.argv[3] + ' (git '), alrs.version()
import alrs._paths as p
assert p.library_candidates()[0].startswith(sys.argv[2]), p.library_candidates()
" "$ctl" "$prefix" "$version" >"$tmp/py.log" 2>&1; then ok
else fail "the installed Python package: $(tail -5 "$tmp/py.log")"; fi

# pip install --no-build-isolation (Debian's setuptools, nothing downloaded)
# of a copy of the source (pip builds in the tree it is given) into a fresh
# venv that sees the system's numpy; libalrs from ALRS_LIBRARY, the controller
# by name from share/ beside it
mkdir -p "$tmp/pysrc/docs"
cp -r "$src/pyproject.toml" "$src/python" "$tmp/pysrc/"
cp "$src/docs/API.md" "$tmp/pysrc/docs/"
venv=$tmp/venv
if "$py" -m venv --system-site-packages "$venv" >"$tmp/pip.log" 2>&1 &&
   "$venv/bin/python" -m pip install --no-build-isolation --no-index "$tmp/pysrc" \
       >>"$tmp/pip.log" 2>&1; then ok
else fail "pip install: $(tail -5 "$tmp/pip.log")"; fi
if (cd "$tmp" && ALRS_LIBRARY="$prefix/lib/libalrs.so.1" run_host "$lib" "$venv/bin/python" -c "
import alrs, sys
from importlib.metadata import version
assert alrs.__file__.startswith(sys.argv[1]), alrs.__file__
assert version('alrs') == sys.argv[2], (version('alrs'), sys.argv[2])  # pyproject's = CMake's
assert 'fashion-mnist-lenet5' in alrs.installed_controllers(), alrs.controller_dirs()
c = alrs.Controller.named('fashion-mnist-lenet5')
assert c.info['n_features'] == 10 and c.info['base'] == 'warmup-cosine', c.info
s = c.session(1e-2, 100, 20)
try:
    alrs.Controller.named('no-such-controller')
    raise SystemExit('a missing name opened')
except FileNotFoundError as e:
    assert 'no-such-controller.bin' in str(e), e
" "$venv" "$version") >"$tmp/venv.log" 2>&1; then ok
else fail "the pip-installed package: $(tail -5 "$tmp/venv.log")"; fi
finish
