#!/usr/bin/env bash
# scripts/slurm/compare, compare-task.sbatch and merge, without Slurm: a
# stand-in `sbatch` on PATH runs each submitted job at once (array tasks one
# after another, with SLURM_ARRAY_TASK_ID set) and prints a job id. The
# comparison made by 3 tuning tasks and 4 evaluation tasks, joined by merge,
# must equal one `alrs compare` with the same flags (CSVs byte for byte but
# for their last column, wall_s); merge must refuse task directories of
# another comparison and a run recorded twice with other results.
#
#   bash tests/test_slurm.sh ALRS_BINARY SOURCE_DIR      (ctest runs it so)
set -uo pipefail
alrs=${1:?usage: test_slurm.sh ALRS_BINARY SOURCE_DIR}
src=${2:?usage: test_slurm.sh ALRS_BINARY SOURCE_DIR}
if ! command -v python3 >/dev/null 2>&1; then
    echo "skipped: python3 (to write the test data) not found"
    exit 0
fi
# shellcheck source=tests/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-test-slurm-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

write_idx "$tmp/idx"

# the stand-in sbatch: runs the job now; --parsable output is the job id
mkdir -p "$tmp/bin"
cat >"$tmp/bin/sbatch" <<'SH'
#!/usr/bin/env bash
array= wrap= script= exports=
for a in "$@"; do
    case $a in
        --array=*) array=${a#--array=} ;;
        --wrap=*) wrap=${a#--wrap=} ;;
        --export=*) exports=${a#--export=} ;;
        --*) ;;
        *) script=$a ;;
    esac
done
IFS=, read -ra kv <<<"$exports"
for e in "${kv[@]}"; do [[ $e == *=* ]] && export "${e?}"; done
echo "sbatch $*" >>"$SBATCH_LOG"
if [ -n "$wrap" ]; then
    bash -c "$wrap" >>"$SBATCH_LOG" 2>&1 || exit 1
else
    for i in $(seq "${array%-*}" "${array#*-}"); do
        SLURM_ARRAY_TASK_ID=$i bash "$script" >>"$SBATCH_LOG" 2>&1 || exit 1
    done
fi
echo $((RANDOM + 1000))
SH
chmod +x "$tmp/bin/sbatch"
export SBATCH_LOG="$tmp/sbatch.log"

flags=(--model mlp --hidden 32,16 --val-split 100 --steps 20 --eval-every 5 --batch 32
       --val-size 50 --data-dir "$tmp/idx" --baselines paper-grid,cosine --seeds 3
       --tune-budget 3 --threads-per-run 1 --concurrency 1)
cut_last() { sed 's/,[^,]*$//' "$1"; }

if ! "$alrs" compare "${flags[@]}" --out "$tmp/direct" >/dev/null 2>"$tmp/direct.err"; then
    fail "alrs compare: $(cat "$tmp/direct.err")"
fi
if PATH="$tmp/bin:$PATH" ALRS="$alrs" "$src/scripts/slurm/compare" "$tmp/base" 3 4 -- \
    "${flags[@]}" >"$tmp/submit.out" 2>&1; then ok
else
    fail "scripts/slurm/compare: $(tail -5 "$tmp/submit.out"); log: $(tail -5 "$SBATCH_LOG")"
fi
for stage in tune-0 tune-1 tune-2 tuned eval-0 eval-3 all; do
    if [ -f "$tmp/base/$stage/config.txt" ]; then ok; else fail "no $stage directory"; fi
done
# each tuning task ran its own share only: 6 grid points on 3 tuning seeds,
# 18 runs over 3 tasks
if [ "$(ls "$tmp/base/tune-1/runs" | grep -c '^tune-.*txt$')" = 6 ]; then ok
else fail "tune-1 holds $(ls "$tmp/base/tune-1/runs" | grep -c '^tune-.*txt$') tuning runs, wanted 6"; fi
for f in compare.csv tuning.csv traces.csv; do
    if cmp -s <(cut_last "$tmp/direct/$f") <(cut_last "$tmp/base/all/$f"); then ok
    else fail "$f of the array differs from the direct comparison (wall_s aside)"; fi
done
if cmp -s "$tmp/direct/compare-summary.csv" "$tmp/base/all/compare-summary.csv"; then ok
else fail "compare-summary.csv of the array differs"; fi
if grep -q '^cosine ' "$SBATCH_LOG"; then ok; else fail "the report job printed no table"; fi

# merge refuses another comparison's directory and a run with other results
mkdir -p "$tmp/other/runs"
sed 's/^seeds=3$/seeds=4/' "$tmp/base/eval-0/config.txt" >"$tmp/other/config.txt"
if "$src/scripts/slurm/merge" "$tmp/m1" "$tmp/base/eval-0" "$tmp/other" 2>"$tmp/m1.err"; then
    fail "merge accepted a task of another comparison"
elif grep -q "differs from" "$tmp/m1.err"; then ok
else fail "merge (other comparison): $(cat "$tmp/m1.err")"; fi
cp -r "$tmp/base/eval-0" "$tmp/bad"
rec=$(ls "$tmp/bad/runs"/tune-*.txt | head -1)
sed -i 's/^best_val_loss=.*/best_val_loss=0.125/' "$rec"
if "$src/scripts/slurm/merge" "$tmp/m2" "$tmp/base/eval-0" "$tmp/bad" 2>"$tmp/m2.err"; then
    fail "merge accepted a run recorded with other results"
elif grep -q "other results" "$tmp/m2.err"; then ok
else fail "merge (conflict): $(cat "$tmp/m2.err")"; fi

finish
