#!/bin/bash
# The same LeNet-5 runs (1000 steps of batch 128, 1 thread) on the native kernels before issue 22
# ($OLD, alrs built at ead1e0e), on today's (./build/alrs) and on oneDNN (before), per seed given:
# prints variant,seed,best_val_loss,test_loss,test_acc. From the repository's root:
#     OLD=/path/to/ead1e0e/alrs bash results/issue22-after/agreement.sh 1 2 3 4 5 6 7 8
OLD=${OLD:?the alrs binary built at ead1e0e}
out=$(mktemp -d)
for seed in "$@"; do
    for v in old new dnnl; do
        case $v in
        old) b=$OLD backend=native ;;
        new) b=./build/alrs backend=native ;;
        dnnl) b=$OLD backend=dnnl ;;
        esac
        "$b" train --model lenet5 --batch 128 --steps 1000 --eval-every 100 --val-size 2000 \
            --threads 1 --seed "$seed" --backend $backend --out "$out/$v-$seed" >/dev/null 2>&1 ||
            { echo "agreement: $v seed $seed failed" >&2; exit 1; }
        echo "$v,$seed,$(tail -1 "$out/$v-$seed/summary.csv" | cut -d, -f8,10,11)"
    done
done
rm -rf "$out"
