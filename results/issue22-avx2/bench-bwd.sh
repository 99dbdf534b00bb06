#!/bin/sh
# Before/after of issue 22's AVX2 backward kernels: old = /work/main/build/alrs
# (base faa56494), new = this branch's build, alternated, 3 rounds, each under
# quiet.sh (the background learners paused). Run from results/issue22-avx2.
W=/work/wt-bwd
for r in 1 2 3; do
  for v in old new; do
    if [ $v = old ]; then B=/work/main/build/alrs; else B=$W/build/alrs; fi
    /work/exp/bin/quiet.sh $B bench layers --model lenet5 --threads 1 --batch 128 > bwd-layers-$v-$r.csv 2>&1
    /work/exp/bin/quiet.sh $B bench train --model lenet5 --batch 128 --threads 1 --steps 60 > bwd-train-$v-$r.csv 2>&1
  done
done
for r in 1 2 3; do
  for v in old new; do
    if [ $v = old ]; then B=/work/main/build/alrs; else B=$W/build/alrs; fi
    /work/exp/bin/quiet.sh $B bench train --model lenet5 --batch 128 --threads 1 --steps 60 --backend native > bwd-train-native-$v-$r.csv 2>&1
  done
done
