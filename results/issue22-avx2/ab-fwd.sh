#!/bin/bash
# alternate old/new: bench layers and bench train (native), 3 rounds
old=/work/main/build/alrs; new=/work/wt-fwd/build/alrs
for r in 1 2 3; do
  for v in old new; do
    b=$old; [ $v = new ] && b=$new
    /work/exp/bin/quiet.sh $b bench layers --model lenet5 --threads 1 --batch 128 > /tmp/fwdm/layers-$v-$r.csv 2>&1
    /work/exp/bin/quiet.sh $b bench train --model lenet5 --batch 128 --threads 1 --steps 60 --backend native > /tmp/fwdm/train-$v-$r.csv 2>&1
  done
done
