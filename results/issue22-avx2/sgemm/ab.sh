#!/bin/bash
# The AVX2 sgemm's unmasked whole tiles: old (2a0308c) against new (7c9498f), alternating,
# 2 rounds, learning runs paused; LeNet-5 with the default backend (the plan) and native,
# the MLP native. Prints CSV: version,round,<alrs bench train's row>.
OLD=/work/exp/bin/alrs-avx2a NEW=/work/exp/bin/alrs-sgemm
for r in 1 2; do
  for v in old new; do
    B=$OLD; [ $v = new ] && B=$NEW
    for cell in "lenet5 auto 32 1" "lenet5 auto 128 1" "lenet5 auto 1000 1" "lenet5 auto 128 2" \
                "lenet5 auto 1000 2" "lenet5 native 128 1" "mlp native 32 1" "mlp native 128 1" \
                "mlp native 512 1" "mlp native 1000 1" "mlp native 128 2"; do
      set -- $cell
      steps=60; [ $3 = 1000 ] && steps=12; [ $3 = 32 ] && steps=200
      [ $1 = mlp ] && steps=$((steps * 4))
      echo "$v,$r,$($B bench train --model $1 --backend $2 --batch $3 --threads $4 --steps $steps 2>/dev/null | tail -n 1)"
    done
  done
done
