#!/bin/bash
# ftz.sh OLD NEW OUTDIR: subnormals kept (OLD) against flushed (NEW), alternating, on a quiet machine
OLD=$1 NEW=$2 OUT=$3
mkdir -p $OUT
{
echo "# alrs bench train --model M --batch B --threads 1 --steps S --repeats 3 (median), old = $OLD, new = $NEW, alternating, two rounds"
echo "round,binary,model,backend,batch,threads,steps_per_s,images_per_s,gflops_per_s,peak_fraction"
for round in 1 2; do
  for cfg in "mlp 32 200" "mlp 32 3000" "mlp 128 3000" "lenet5 32 3000" "lenet5 128 2000"; do
    set -- $cfg
    for b in old new; do
      bin=$OLD; [ $b = new ] && bin=$NEW
      $bin bench train --model $1 --batch $2 --threads 1 --repeats 3 --steps $3 2>/dev/null | tail -n 1 | sed "s/^/$round,$b,/"
    done
  done
done
} > $OUT/train-old-new.csv
for b in old new; do
  bin=$OLD; [ $b = new ] && bin=$NEW
  for run in "mlp 32 4000 1 1000 2000" "lenet5 128 1000 1 10 2000" "lenet5 1000 1000 2 10 10000"; do
    set -- $run
    rm -rf /tmp/ftz-run
    $bin train --model $1 --batch $2 --steps $3 --threads $4 --eval-every $5 --val-size $6 --out /tmp/ftz-run >/dev/null 2>&1
    echo "# $b: alrs train --model $1 --batch $2 --steps $3 --threads $4 --eval-every $5 --val-size $6" >> $OUT/runs-$b.csv
    cat /tmp/ftz-run/summary.csv >> $OUT/runs-$b.csv
  done
done
rm -rf /tmp/ftz-run
