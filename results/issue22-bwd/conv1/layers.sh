#!/bin/bash
# old/new alternating: alrs bench layers, lenet5 b128 1 thread (fashion-mnist shape and cifar10 shape)
cd "${1:-.}"   # the output directory
for r in 1 2 3; do
  for v in old new; do
    b="${OLD:?old alrs}"; [ $v = new ] && b="${NEW:?new alrs}"
    $b bench layers --model lenet5 --batch 128 --threads 1 --plan /tmp/plan-conv1-$v.txt > layers-mnist-$v-$r.csv 2>&1
    $b bench layers --model lenet5 --dataset cifar10 --batch 128 --threads 1 --plan /tmp/plan-conv1-$v.txt > layers-cifar-$v-$r.csv 2>&1
  done
done
