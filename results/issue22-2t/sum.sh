#!/bin/bash
# per key: n, median, max
awk '{k=$1" "$2" "$3; v[k]=v[k]" "$4} END{for(k in v) print k, v[k]}' "$@" | sort | while read a b c rest; do
  echo "$a $b $c $(echo $rest | tr ' ' '\n' | sort -n | awk '{x[NR]=$1} END{printf "n=%d med=%.1f p75=%.1f max=%.1f", NR, x[int((NR+1)/2)], x[int(NR*0.75+0.5)], x[NR]}')"
done
