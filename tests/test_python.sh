#!/usr/bin/env bash
# The Python package (python/alrs) from the build tree: tests/python/test_alrs.py
# over a run recorded by test_api (its observations, rates and alrs train's
# trace). Debian's /usr/bin/python3 (another python3 on PATH may lack numpy).
#   bash tests/test_python.sh ALRS SOURCE_DIR
set -u
alrs=$1 src=$2
build=$(cd "$(dirname "$alrs")" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
source "$src/tests/common.bash"
lib=$build/libalrs.so
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-python.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if ! "$build/test_api" record "$tmp" >"$tmp/record.log" 2>&1; then
    echo "test_python: test_api record failed:" >&2
    tail -20 "$tmp/record.log" >&2
    exit 1
fi
PYTHONPATH="$build/python" run_host "$lib" "$py" "$src/tests/python/test_alrs.py" "$alrs" "$tmp"
status=$?
# alrs.Env against gymnasium's documented Env contract
if ! PYTHONPATH="$build/python" run_host "$lib" "$py" "$src/tests/python/test_env_contract.py" \
        "$tmp/data"; then
    status=1
fi
# LearnedLR inside SequentialLR after a LinearLR warm-up, two param groups,
# resumed in a fresh process (tests/python/test_sequential_lr.py)
if ! lib_has_asan "$lib" && "$py" -c "import torch" 2>/dev/null; then
    if ! PYTHONPATH="$build/python" "$py" "$src/tests/python/test_sequential_lr.py" \
            "$tmp/plain/controller.bin" "$tmp"; then
        status=1
    fi
fi
# The PyTorch example: LeNet-5 on the real Fashion-MNIST, its rate from the
# committed controller at every step (it checks that itself), if torch and the
# data are installed.
if lib_has_asan "$lib"; then
    # PyTorch's own libraries under the ASan runtime are not ours to check
    echo "test_python: the sanitizer build: the PyTorch LeNet-5 example is skipped"
elif ! "$py" -c "import torch" 2>/dev/null; then
    echo "test_python: PyTorch not installed: the LeNet-5 example is skipped (apt-get install python3-torch)"
elif [ ! -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    echo "test_python: Fashion-MNIST not installed: the LeNet-5 example is skipped (dataset-fashion-mnist)"
elif PYTHONPATH="$build/python" "$py" "$src/examples/pytorch/lenet5_learned_lr.py" --steps 60 \
        --val-size 500 --threads 1 >"$tmp/lenet5.log" 2>&1 &&
     grep -q "the optimizer's rate was the controller's at all 60 steps" "$tmp/lenet5.log"; then
    echo "test_python: the PyTorch LeNet-5 example follows the controller"
else
    echo "FAIL: the PyTorch LeNet-5 example: $(tail -5 "$tmp/lenet5.log")" >&2
    status=1
fi
exit $status
