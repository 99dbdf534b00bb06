#!/usr/bin/env bash
# alrs learn across MPI ranks gives the run one process gives.
#
#   bash tests/test_mpi.sh ALRS_BINARY SOURCE_DIR      (ctest runs it so)
#
# Skipped (exit 0, "skipped: ...") when the binary was built without MPI
# (`alrs info` says "mpi: not built in"), or mpirun or python3 is missing.
# Otherwise, on a tiny generated IDX set and a tiny MLP child:
#   1. 2 updates x 2 environments, once as one process and once under
#      `mpirun -np 2`: controller.bin, config.txt and the traces identical byte
#      for byte; episodes.csv and updates.csv identical byte for byte once
#      their timing columns (wall_s; collect_s, update_s) are cut out;
#   2. 3 environments over 2 ranks (2 + 1) with children that diverge, so that
#      episodes restart and are cut mid-batch: the same, and the same as 3
#      ranks of one environment each;
#   3. --resume under MPI: 1 update, then resumed to 2, equals the straight run;
#   4. failures under mpirun end every rank (no hang) with one "alrs: " line
#      and leave no run directory: missing data, --envs below the rank count,
#      a non-empty --out (rank 0 alone fails), a corrupt checkpoint on --resume;
#   5. alrs info says the ranks; alrs bench rollout reports ranks 2;
#   6. alrs compare under `mpirun -np 2` (runs dealt out to the ranks, rank 0
#      writes) gives the CSVs one process gives (timing columns aside);
#   7. alrs suite likewise: the same suite.csv and suite-summary.csv.
# About 10 s on 2 cores.
set -uo pipefail

alrs=${1:?usage: test_mpi.sh ALRS_BINARY SOURCE_DIR}
if ! "$alrs" info 2>/dev/null | grep -q '^mpi: built in'; then
    echo "skipped: alrs built without MPI"
    exit 0
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "skipped: mpirun not found"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "skipped: python3 (to write the test data) not found"
    exit 0
fi

# Open MPI refuses root without these, and 2 ranks on a 1-core machine
# without --oversubscribe; MPICH's mpirun needs neither.
mpi=(mpirun)
if mpirun --version 2>&1 | grep -q "Open MPI"; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    mpi+=(--oversubscribe)
fi

# shellcheck source=tests/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-test-mpi-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- data: 600 training and 120 test images, 28x28, a learnable pattern ----
write_idx "$tmp/idx"

tiny=(--model mlp --hidden 32,16 --val-split 100 --steps 20 --action-every 5 --batch 32
      --val-size 50)
child=("${tiny[@]}" --data-dir "$tmp/idx")
# SGD at rate 1: some children diverge within a few agent steps
diverging=(--model mlp --hidden 32,16 --val-split 100 --steps 40 --action-every 5 --batch 32
           --val-size 50 --data-dir "$tmp/idx" --optimizer sgd --lr 1)

# A CSV without the named columns (timings differ from run to run).
strip() { # file col...
    local file=$1
    shift
    awk -F, -v drop="$*" 'BEGIN { n = split(drop, d, " ") }
        NR == 1 { for (i = 1; i <= NF; i++) for (k = 1; k <= n; k++) if ($i == d[k]) skip[i] = 1 }
        { line = ""; sep = ""
          for (i = 1; i <= NF; i++) if (!skip[i]) { line = line sep $i; sep = "," }
          print line }' "$file"
}

# Two run directories hold the same run.
same_run() { # what dir-a dir-b
    local what=$1 a=$2 b=$3
    for f in controller.bin config.txt; do
        if cmp -s "$a/$f" "$b/$f"; then ok; else fail "$what: $f differs"; fi
    done
    if cmp -s <(strip "$a/episodes.csv" wall_s) <(strip "$b/episodes.csv" wall_s); then ok
    else
        fail "$what: episodes.csv differs (timing column wall_s aside)"
        diff <(strip "$a/episodes.csv" wall_s) <(strip "$b/episodes.csv" wall_s) | head -10 >&2
    fi
    if cmp -s <(strip "$a/updates.csv" collect_s update_s) <(strip "$b/updates.csv" collect_s update_s)
    then ok
    else fail "$what: updates.csv differs (timing columns collect_s, update_s aside)"; fi
    if diff -r "$a/traces" "$b/traces" >/dev/null; then ok; else fail "$what: traces differ"; fi
}

# alrs learn as one process, then under mpirun; fails the test if either fails.
learn() { # dir args...
    local dir=$1
    shift
    if ! "$alrs" learn "$@" --out "$dir" 2>"$dir.err"; then
        fail "alrs learn $* --out $dir: $(cat "$dir.err")"
        return 1
    fi
}
mpi_learn() { # ranks dir args...
    local ranks=$1 dir=$2
    shift 2
    if ! timeout 120 "${mpi[@]}" -np "$ranks" "$alrs" learn "$@" --out "$dir" >"$dir.out" 2>"$dir.err"
    then
        fail "mpirun -np $ranks alrs learn $* --out $dir:"
        cat "$dir.out" "$dir.err" >&2
        return 1
    fi
}

# ---- 1. one process and two ranks: the same run --------------------------------
learn "$tmp/one" "${child[@]}" --episodes 4 --envs 2 &&
    mpi_learn 2 "$tmp/two" "${child[@]}" --episodes 4 --envs 2 &&
    same_run "2 envs on 2 ranks" "$tmp/one" "$tmp/two"
# every rank said where it ran, and only rank 0 wrote progress
if [ -f "$tmp/two.err" ] && grep -q "^rank 1 on .*environments 1-1" "$tmp/two.err" &&
    [ "$(grep -c '^update ' "$tmp/two.err")" -eq 2 ]; then ok
else fail "mpirun -np 2: expected rank 1's placement and 2 progress lines; stderr: $(cat "$tmp/two.err" 2>/dev/null)"; fi

# ---- 2. uneven shares, divergence, restarts and cut episodes ------------------------
learn "$tmp/div-one" "${diverging[@]}" --episodes 6 --envs 3 &&
    mpi_learn 2 "$tmp/div-two" "${diverging[@]}" --episodes 6 --envs 3 &&
    same_run "3 envs on 2 ranks, diverging" "$tmp/div-one" "$tmp/div-two"
if [ -f "$tmp/div-one/episodes.csv" ] &&
    awk -F, 'NR > 1 && $7 == 1 { d++ } NR > 1 && $11 == 0 { c++ } END { exit !(d > 0 && c > 0) }' \
        "$tmp/div-one/episodes.csv"; then ok
else fail "the diverging run has no diverged or no cut episode: it does not test restarts"; fi
mpi_learn 3 "$tmp/div-three" "${diverging[@]}" --episodes 6 --envs 3 &&
    same_run "3 envs on 3 ranks, diverging" "$tmp/div-one" "$tmp/div-three"

# ---- 3. --resume under MPI ----------------------------------------------------------
mpi_learn 2 "$tmp/resumed" "${diverging[@]}" --episodes 3 --envs 3 &&
    mpi_learn 2 "$tmp/resumed" "${diverging[@]}" --episodes 6 --envs 3 --resume &&
    same_run "--resume on 2 ranks" "$tmp/div-one" "$tmp/resumed"

# ---- 4. failures: every rank ends, one message, no directory ---------------------------
expect_fail() { # what key dir args...
    local what=$1 key=$2 dir=$3
    shift 3
    timeout 60 "${mpi[@]}" -np 2 "$alrs" "$@" >"$tmp/fail.out" 2>"$tmp/fail.err"
    local rc=$?
    local lines
    lines=$(grep -c '^alrs: ' "$tmp/fail.err")
    if [ "$rc" -eq 124 ]; then fail "$what: hung (killed after 60 s)"
    elif [ "$rc" -eq 0 ]; then fail "$what: exit 0"
    elif [ "$lines" -ne 1 ] || ! grep -q "^alrs: .*$key" "$tmp/fail.err"; then
        fail "$what: want one 'alrs: ...$key...' line; stderr:"
        cat "$tmp/fail.err" >&2
    elif [ -n "$dir" ] && [ -e "$dir" ]; then fail "$what: $dir was left behind"
    else ok; fi
}
expect_fail "missing data" "no-data" "$tmp/never" \
    learn "${tiny[@]}" --data-dir "$tmp/no-data" --envs 2 --out "$tmp/never"
expect_fail "--envs below the ranks" "--envs 1" "$tmp/never" \
    learn "${child[@]}" --envs 1 --out "$tmp/never"
expect_fail "non-empty --out (rank 0 fails alone)" "not empty" "" \
    learn "${child[@]}" --episodes 4 --envs 2 --out "$tmp/one"
if [ -d "$tmp/one" ]; then
    cp -r "$tmp/one" "$tmp/corrupt"
    printf '\377' | dd of="$tmp/corrupt/controller.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
    expect_fail "corrupt checkpoint on --resume" "checksum" "" \
        learn "${child[@]}" --episodes 6 --envs 2 --resume --out "$tmp/corrupt"
fi

# ---- 5. info and bench rollout --------------------------------------------------------
if timeout 60 "${mpi[@]}" -np 2 "$alrs" info 2>&1 | grep -q '^mpi_ranks: 2$'; then ok
else fail "mpirun -np 2 alrs info does not say mpi_ranks: 2"; fi
if timeout 120 "${mpi[@]}" -np 2 "$alrs" bench rollout "${child[@]}" --batches 1 --layouts 2x1 \
    >"$tmp/bench.csv" 2>"$tmp/bench.err" &&
    grep -q '^model,envs,threads_per_env,ranks,' "$tmp/bench.csv" &&
    [ "$(grep -c '^mlp,2,1,2,' "$tmp/bench.csv")" -eq 1 ]; then ok
else
    fail "mpirun -np 2 alrs bench rollout: want one row mlp,2,1,2,...; got:"
    cat "$tmp/bench.csv" "$tmp/bench.err" >&2
fi

# ---- 6. compare: one process and two ranks ---------------------------------------
plan=(--model mlp --hidden 32,16 --val-split 100 --steps 20 --eval-every 5 --batch 32
      --val-size 50 --data-dir "$tmp/idx" --controller "$tmp/one/controller.bin"
      --baselines paper-grid,cosine --seeds 3 --tune-seeds 1 --tune-budget 2 --concurrency 1)
# the last column of these files is wall_s; quoted specs hold commas, so it
# is cut from the end of the line
cut_last() { sed 's/,[^,]*$//' "$1"; }
if "$alrs" compare "${plan[@]}" --out "$tmp/cmp-one" >"$tmp/cmp-one.out" 2>"$tmp/cmp-one.err" &&
    timeout 120 "${mpi[@]}" -np 2 "$alrs" compare "${plan[@]}" --out "$tmp/cmp-two" \
        >"$tmp/cmp-two.out" 2>"$tmp/cmp-two.err"; then
    for f in compare.csv tuning.csv traces.csv; do
        if cmp -s <(cut_last "$tmp/cmp-one/$f") <(cut_last "$tmp/cmp-two/$f"); then ok
        else fail "compare -np 2: $f differs (wall_s aside)"; fi
    done
    if cmp -s "$tmp/cmp-one/compare-summary.csv" "$tmp/cmp-two/compare-summary.csv"; then ok
    else fail "compare -np 2: compare-summary.csv differs"; fi
    if [ "$(ls "$tmp/cmp-two/runs" | grep -c 'txt$')" = 15 ]; then ok
    else fail "compare -np 2: expected 15 run records (6 tuning, 9 evaluation)"; fi
    # only rank 0 printed the table
    if [ "$(grep -c '^controller ' "$tmp/cmp-two.out")" = 1 ]; then ok
    else fail "compare -np 2: the table was printed $(grep -c '^controller ' "$tmp/cmp-two.out") times"; fi
else
    fail "alrs compare (one process, then -np 2): $(cat "$tmp/cmp-one.err" "$tmp/cmp-two.err" | tail -5)"
fi

# ---- 7. suite: one process and two ranks ----------------------------------------------
printf 'a model=mlp hidden=16 steps=20 batch=16 val-size=50 eval-every=5\nb model=mlp hidden=32,16 steps=10 batch=32 val-size=50 eval-every=5\n' >"$tmp/tasks.txt"
printf 'ctrl controller=%s lr=1e-3\nadam optimizer=adam schedule=cosine lr=1e-3\n' \
    "$tmp/one/controller.bin" >"$tmp/methods.txt"
splan=(--tasks "$tmp/tasks.txt" --methods "$tmp/methods.txt" --data-dir "$tmp/idx" --val-split 100
       --baselines cosine --seeds 2 --tune-seeds 1 --tune-budget 2 --concurrency 1)
if "$alrs" suite "${splan[@]}" --out "$tmp/suite-one" >"$tmp/suite-one.out" 2>"$tmp/suite-one.err" &&
    timeout 120 "${mpi[@]}" -np 2 "$alrs" suite "${splan[@]}" --out "$tmp/suite-two" \
        >"$tmp/suite-two.out" 2>"$tmp/suite-two.err"; then
    if cmp -s <(cut_last "$tmp/suite-one/suite.csv") <(cut_last "$tmp/suite-two/suite.csv") &&
        cmp -s "$tmp/suite-one/suite-summary.csv" "$tmp/suite-two/suite-summary.csv"; then ok
    else fail "suite -np 2: suite.csv or suite-summary.csv differs (wall_s aside)"; fi
    if [ "$(grep -c '^adam ' "$tmp/suite-two.out")" = 1 ]; then ok
    else fail "suite -np 2: the table was printed $(grep -c '^adam ' "$tmp/suite-two.out") times"; fi
else
    fail "alrs suite (one process, then -np 2): $(cat "$tmp/suite-one.err" "$tmp/suite-two.err" | tail -5)"
fi

finish
