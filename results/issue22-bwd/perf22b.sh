#!/bin/bash
# perf22b.sh OLD NEW OUTDIR: issue 22's figures (LeNet-5 and MLP), old vs new binary, alternating, quiet machine
OLD=$1 NEW=$2 OUT=$3
mkdir -p $OUT
{
echo "# alrs bench train --model M --batch B --threads T --repeats 5 --steps S --plan <one plan file per binary>, old = $OLD, new = $NEW, alternating, two rounds"
echo "round,binary,model,backend,batch,threads,steps_per_s,images_per_s,gflops_per_s,peak_fraction"
for round in 1 2; do
  for cfg in "lenet5 32 1" "lenet5 128 1" "lenet5 1000 1" "lenet5 128 2" "lenet5 1000 2" "mlp 32 1" "mlp 64 1" "mlp 128 1" "mlp 512 1" "mlp 128 2"; do
    set -- $cfg
    for b in old new; do
      bin=$OLD; [ $b = new ] && bin=$NEW
      steps=200; [ $2 = 1000 ] && steps=30
      $bin bench train --model $1 --batch $2 --threads $3 --repeats 5 --steps $steps --plan $OUT/plan-$b.txt 2>/dev/null | tail -n 1 | sed "s/^/$round,$b,/"
    done
  done
done
} > $OUT/train-old-new.csv
for b in old new; do
  bin=$OLD; [ $b = new ] && bin=$NEW; export ALRS_PLAN=$OUT/plan-$b.txt
  $bin bench layers --model lenet5 --batch 128 --threads 1 > $OUT/bench-layers-lenet5-b128-$b.csv 2>/dev/null
  $bin bench layers --model mlp --batch 32 --threads 1 > $OUT/bench-layers-mlp-b32-$b.csv 2>/dev/null
  for k in 1 2; do
    echo "# command: $bin train --model lenet5 --batch 128 --steps 1000 --eval-every 10 --val-size 2000 --threads 1 (a learning episode), run $k" >> $OUT/learning-episode-$b.txt
    $bin train --model lenet5 --batch 128 --steps 1000 --eval-every 10 --val-size 2000 --threads 1 --out /tmp/perf22-ep 2>&1 | grep -v progress >> $OUT/learning-episode-$b.txt; rm -rf /tmp/perf22-ep
  done
  echo "# command: $bin train --model lenet5 --batch 1000 --steps 1000 --eval-every 10 --threads 2 (the paper's protocol)" >> $OUT/paper-protocol-$b.txt
  $bin train --model lenet5 --batch 1000 --steps 1000 --eval-every 10 --threads 2 --out /tmp/perf22-pp 2>&1 | grep -v progress >> $OUT/paper-protocol-$b.txt; rm -rf /tmp/perf22-pp
done
