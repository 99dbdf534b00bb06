#!/bin/bash
# ab.sh REPS "BATCHES" "THREADS" BIN... : alternates binaries; prints each repeat's steps/s
reps=$1; bs=$2; ts=$3; shift 3
for rep in $(seq $reps); do
for b in $bs; do
  case $b in 32) s=1000;; 128) s=250;; 1000) s=30;; esac
  for t in $ts; do
    for bin in "$@"; do
      env $ENVV $bin bench train --model lenet5 --batch $b --threads $t --steps $s --repeats 5 --backend ${BK:-native} 2>/dev/null | grep '^# repeat' | awk -v k="$bin b$b t$t" '{print k, $4}'
    done
  done
done
done
