#!/bin/bash
# old (faa5649) vs new (AVX2 direct kernels) on this machine, alternating; native backend and the plan
OLD=/work/exp/bin/alrs-ftz NEW=/work/exp/bin/alrs-new
cd /work/exp/m
for r in 1 2; do
  for v in old new; do
    B=$OLD; [ $v = new ] && B=$NEW
    for be in native dnnl; do
      for bt in "32 1" "128 1" "1000 1" "128 2" "1000 2"; do
        set -- $bt
        steps=60; [ $1 = 1000 ] && steps=12; [ $1 = 32 ] && steps=200
        echo "$v,$be,$r,$($B bench train --model lenet5 --batch $1 --threads $2 --steps $steps --backend $be 2>/dev/null | tail -n 1)"
      done
    done
  done
done
