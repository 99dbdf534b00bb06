#!/bin/bash
# The learning episode and the paper's protocol from the command's start to its end, new
# (7c9498f, its plan tuned first) against old (2a0308c), learning runs paused; CSV:
# job,version,seconds,plan,test loss
NEW=/work/exp/bin/alrs-sgemm OLD=/work/exp/bin/alrs-avx2a
W=$(mktemp -d); cd $W
t0=$(date +%s.%N); $NEW tune --model lenet5 --threads 1 --batch 128 > tune1.txt 2>&1; $NEW tune --model lenet5 --threads 2 --batch 1000 > tune2.txt 2>&1; t1=$(date +%s.%N)
echo "tune_s,$(echo "$t1 - $t0" | bc)"
ep() { rm -rf ep; local t0=$(date +%s.%N); $1 train --model lenet5 --batch 128 --steps 1000 --eval-every 10 --val-size 2000 --threads 1 --out ep > /dev/null 2>&1; local t1=$(date +%s.%N); echo "episode,$2,$(echo "$t1 - $t0" | bc),$(grep -E '^plan' ep/metadata.txt | sed 's/.*: //' | tr ',' ' '),$(tail -n 1 ep/summary.csv | cut -d, -f10)"; }
pp() { rm -rf pp; local t0=$(date +%s.%N); $1 train --model lenet5 --batch 1000 --steps 1000 --eval-every 10 --threads 2 --out pp > /dev/null 2>&1; local t1=$(date +%s.%N); echo "protocol,$2,$(echo "$t1 - $t0" | bc),$(grep -E '^plan' pp/metadata.txt | sed 's/.*: //' | tr ',' ' '),$(tail -n 1 pp/summary.csv | cut -d, -f10)"; }
ep $NEW new; ep $OLD old; ep $NEW new
pp $NEW new; pp $OLD old
$NEW info --peak | grep fma_peak
rm -rf $W
