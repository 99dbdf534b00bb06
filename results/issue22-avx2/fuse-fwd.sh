#!/bin/bash
new=/work/wt-fwd/build/alrs
for r in 1 2 3; do
  for f in 0 1; do
    ALRS_NATIVE_FUSE=$f /work/exp/bin/quiet.sh $new bench layers --model lenet5 --threads 1 --batch 128 > /tmp/fwdm/fl-$f-$r.csv 2>&1
    ALRS_NATIVE_FUSE=$f /work/exp/bin/quiet.sh $new bench train --model lenet5 --batch 128 --threads 1 --steps 60 --backend native > /tmp/fwdm/ft-$f-$r.csv 2>&1
  done
done
