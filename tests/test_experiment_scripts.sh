#!/usr/bin/env bash
# The experiment scripts behind results/ (scripts/ablation, scripts/untuned,
# scripts/plot) on a tiny generated IDX set and a tiny MLP child:
#   1. scripts/ablation: a plan with a learned row, a row that reuses its
#      controller (@ROW) and a row with a controller learned elsewhere (=PATH)
#      runs the baselines and every row, writes COMMANDS and ablation.csv (one
#      line per baseline and row, numbers in every column), and a rerun
#      continues without running anything again; a bad plan is refused;
#   2. scripts/untuned: every (schedule, rate) its seeds, untuned.csv with the
#      regret against the comparison's best tuned schedule, UNTUNED-COMMAND,
#      and a rerun keeps the finished runs;
#   3. scripts/plot learn and compare draw their PNGs from these directories;
#   4. scripts/check-summary agrees with a comparison's summary and a tiny
#      suite's, and catches a summary altered by hand; scripts/adaptation
#      gives each method's rate at 10/50/90 % of the run; scripts/plot suite
#      draws the suite's performance profile; scripts/rate-choice ranks the
#      tuned grid's rates over the tasks by hand-checked regrets;
#   5. scripts/intervention: a controller and a fixed schedule on one seed,
#      each with and without a mid-run change of the labels: intervention.csv
#      holds every run's trace, each run equals its plain twin up to the
#      change and trains on other labels after it, the fixed schedule's rates
#      stay its twin's; the PNG is drawn; a rerun keeps the finished runs.
# About 35 s on 2 cores.
#   bash tests/test_experiment_scripts.sh ALRS SOURCE_DIR
set -u
alrs=$1 src=$2
source "$src/tests/common.bash"
py=/usr/bin/python3
if ! [ -x "$py" ] || ! "$py" -c "import scipy, matplotlib" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 with scipy and matplotlib not found"
    exit 0
fi
export ALRS=$alrs MPLBACKEND=Agg
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-experiments.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
write_idx "$tmp/idx"
child="--model mlp --hidden 32,16 --val-split 100 --steps 20 --batch 32 --val-size 50 \
--backend native --data-dir $tmp/idx"

# ---- 1. scripts/ablation ----------------------------------------------------------
"$alrs" learn $child --action-every 5 --episodes 2 --envs 2 --seed 7 --out "$tmp/elsewhere" \
    >/dev/null 2>&1 || fail "alrs learn (the controller learned elsewhere)"
cat > "$tmp/plan.txt" <<EOF
# a tiny plan
model:     $child
learn:     --action-every 5 --episodes 2 --envs 2 --seed 1
compare:   --seeds 2 --seed-base 50 --tune-seeds 1 --tune-budget 2 --concurrency 1
baselines: cosine
row A | progress features | --features paper,progress |
row B | A's controller by a sample | @A | --policy sample
row C | learned elsewhere | =$tmp/elsewhere/controller.bin |
EOF
abl=$tmp/abl
if "$src/scripts/ablation" "$tmp/plan.txt" "$abl" >"$tmp/abl.out" 2>"$tmp/abl.err"; then ok
else fail "scripts/ablation: $(tail -3 "$tmp/abl.err")"; fi
csv=$abl/ablation.csv
if [ -f "$csv" ] && [ "$(head -1 "$csv")" = "row,change,model,episodes,seeds,test_loss_mean,test_loss_std,p_vs_best_baseline,best_baseline,best_baseline_mean,controller_lr,learn_minutes" ]; then ok
else fail "ablation.csv's header: $(head -1 "$csv" 2>&1)"; fi
# one line per baseline and row; each row's test loss a number, from 2 seeds
for row in baseline:cosine A B C; do
    if "$py" - "$csv" "$row" <<'PY'
import csv, math, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["row"] == sys.argv[2]]
assert len(rows) == 1, rows
r = rows[0]
assert r["seeds"] == "2" and math.isfinite(float(r["test_loss_mean"])), r
assert r["best_baseline"] == "cosine", r
if not r["row"].startswith("baseline:"):
    assert float(r["controller_lr"]) > 0 and int(r["episodes"]) == 2, r
PY
    then ok; else fail "ablation.csv: row $row"; fi
done
if grep -q " learn .*--features paper,progress .*--out $abl/A/learn" "$abl/COMMANDS" &&
   grep -q "controller $tmp/elsewhere/controller.bin" "$abl/COMMANDS" &&
   [ "$(grep -c " learn " "$abl/COMMANDS")" = 1 ]; then ok
else fail "COMMANDS: $(cat "$abl/COMMANDS")"; fi
# a rerun continues: nothing is learned or run again, the table is the same
cp "$csv" "$tmp/ablation-first.csv"
runs_before=$(find "$abl" -name '*.txt' -path '*runs*' | wc -l)
if "$src/scripts/ablation" "$tmp/plan.txt" "$abl" >/dev/null 2>"$tmp/abl2.err" &&
   cmp -s "$csv" "$tmp/ablation-first.csv" &&
   [ "$(find "$abl" -name '*.txt' -path '*runs*' | wc -l)" = "$runs_before" ]; then ok
else fail "scripts/ablation rerun: $(tail -3 "$tmp/abl2.err")"; fi
# a row naming an unknown row is refused before anything runs
printf 'model: %s\nrow X | x | @NOPE |\n' "$child" > "$tmp/bad-plan.txt"
if out=$("$src/scripts/ablation" "$tmp/bad-plan.txt" "$tmp/abl-bad" 2>&1); then
    fail "a plan with an unknown row ran"
elif echo "$out" | grep -q "unknown row NOPE" && [ ! -e "$tmp/abl-bad" ]; then ok
else fail "a bad plan: $out"; fi

# ---- 2. scripts/untuned -------------------------------------------------------------
unt=$tmp/untuned
if "$src/scripts/untuned" --tuned "$abl/baselines/compare-summary.csv" --out "$unt" \
       --schedules controller,cosine,schedulefree --controller "$abl/A/learn/controller.bin" \
       --rates 1e-3,1e-2 --seeds 2 --jobs 2 -- $child >"$tmp/unt.out" 2>"$tmp/unt.err"; then ok
else fail "scripts/untuned: $(tail -3 "$tmp/unt.err")"; fi
if "$py" - "$unt/untuned.csv" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["schedule"], float(r["lr"])) for r in rows] == [
    ("controller", 1e-3), ("controller", 1e-2), ("cosine", 1e-3), ("cosine", 1e-2),
    ("schedulefree", 1e-3), ("schedulefree", 1e-2)], rows
for r in rows:
    assert r["seeds"] == "2" and r["best_tuned"] == "cosine", r
    assert abs(float(r["regret"]) - (float(r["test_loss_mean"]) -
                                     float(r["best_tuned_test_loss"]))) < 1e-5, r
PY
then ok; else fail "untuned.csv: $(cat "$unt/untuned.csv" 2>&1)"; fi
if [ "$(ls "$unt/untuned-runs" | wc -l)" = 12 ] && grep -q "scripts/untuned" "$unt/UNTUNED-COMMAND"
then ok; else fail "untuned-runs/ or UNTUNED-COMMAND"; fi
# schedulefree's runs train with their own optimizer, the others with the child's
if grep -q "^optimizer=adamw-schedulefree" "$unt/untuned-runs/schedulefree-0.01-seed1000/config.txt" &&
   grep -q "^optimizer=adam$" "$unt/untuned-runs/cosine-0.01-seed1000/config.txt"
then ok; else fail "schedulefree's optimizer in untuned-runs"; fi
stamp=$(stat -c %Y "$unt/untuned-runs/cosine-0.01-seed1000/summary.csv" 2>/dev/null)
sleep 1
if "$src/scripts/untuned" --tuned "$abl/baselines/compare-summary.csv" --out "$unt" \
       --schedules controller,cosine,schedulefree --controller "$abl/A/learn/controller.bin" \
       --rates 1e-3,1e-2 --seeds 2 --jobs 2 -- $child >/dev/null 2>&1 &&
   [ "$(stat -c %Y "$unt/untuned-runs/cosine-0.01-seed1000/summary.csv")" = "$stamp" ]; then ok
else fail "scripts/untuned rerun did not keep the finished runs"; fi

# ---- 3. scripts/plot ----------------------------------------------------------------
if "$src/scripts/plot" learn "$tmp/learn.png" "$abl/A/learn" >/dev/null 2>&1 &&
   [ -s "$tmp/learn.png" ]; then ok; else fail "scripts/plot learn"; fi
# a multi-task run's curves per family, on a made-up episodes.csv: task a-1 halves its loss
# from update 10 on, b-1 keeps it; one diverged episode is counted, not averaged
mkdir -p "$tmp/tasks-learn"
/usr/bin/python3 - "$tmp/tasks-learn/episodes.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("episode,env,initial_lr,return,final_val_loss,best_val_loss,diverged,wall_s,update,"
            "agent_steps,complete,task\n")
    k = 0
    for u in range(20):
        for task, loss in (("a-1", 2.0 if u < 10 else 1.0), ("b-1", 3.0)):
            f.write("%d,0,0.001,0,%g,%g,0,1,%d,4,1,%s\n" % (k, loss, loss, u, task))
            k += 1
    f.write("%d,0,0.001,0,nan,nan,1,1,19,4,1,a-1\n" % k)
PY
if "$src/scripts/plot" learn "$tmp/tasks-learn.png" "$tmp/tasks-learn" >/dev/null 2>&1 &&
   [ -s "$tmp/tasks-learn.png" ] &&
   grep -qx "19,a,10,1,0.500000" "$tmp/tasks-learn-families.csv" &&
   grep -qx "19,b,10,0,1.000000" "$tmp/tasks-learn-families.csv" &&
   grep -qx "14,a,10,0,0.750000" "$tmp/tasks-learn-families.csv"
then ok; else fail "scripts/plot learn per family: $(cat "$tmp/tasks-learn-families.csv" 2>&1)"; fi
if "$src/scripts/plot" compare "$tmp/compare.png" "$abl/baselines" >/dev/null 2>&1 &&
   [ -s "$tmp/compare.png" ]; then ok; else fail "scripts/plot compare"; fi
# scripts/plot batches: the README's table from a made-up compare-pytorch CSV: 2 threads
# over 1 only where both ran, alrs / PyTorch from the 1-thread row
printf '%s\n' '# $ scripts/compare-pytorch ...' \
    'model,batch,threads,alrs_steps_per_s,torch_steps_per_s,ratio,alrs_peak_fraction,torch_peak_fraction' \
    'lenet5,128,1,200,50,4.0,0.45,0.11' 'lenet5,128,2,380,90,4.2,0.43,0.1' \
    'lenet5,1000,1,30,10,3.0,0.38,0.12' >"$tmp/batches.csv"
if "$src/scripts/plot" batches "$tmp/batches.png" "$tmp/batches.csv" >/dev/null 2>&1 &&
   [ -s "$tmp/batches.png" ] && grep -qx '| lenet5 | 128 | 45 % | 1.90× | 4.0× |' "$tmp/batches.md" &&
   grep -qx '| lenet5 | 1000 | 38 % | - | 3.0× |' "$tmp/batches.md"
then ok; else fail "scripts/plot batches: $(cat "$tmp/batches.md" 2>&1)"; fi

# ---- 4. scripts/check-summary and scripts/plot suite ---------------------------------
printf 'a model=mlp hidden=16 steps=20 batch=32 val-size=50 eval-every=5\n' >"$tmp/tasks.txt"
printf 'adam-const optimizer=adam schedule=constant lr=1e-3\nadam-cos optimizer=adam schedule=cosine lr=3e-3\n' \
    >"$tmp/methods.txt"
if "$alrs" suite --tasks "$tmp/tasks.txt" --methods "$tmp/methods.txt" --data-dir "$tmp/idx" \
       --val-split 100 --backend native --baselines cosine --seeds 3 --tune-seeds 1 \
       --tune-budget 2 --out "$tmp/suite" >/dev/null 2>&1 &&
   "$src/scripts/check-summary" "$abl/baselines" "$tmp/suite" >"$tmp/check.out" 2>&1 &&
   [ "$(tail -1 "$tmp/check.out")" = "all match" ]; then ok
else fail "scripts/check-summary on a comparison and a suite: $(tail -3 "$tmp/check.out")"; fi
sed -i '3s/,[0-9.e-]*$/,0.5/' "$tmp/suite/suite-summary.csv"   # the second row's p_holm
if ! "$src/scripts/check-summary" "$tmp/suite" >/dev/null 2>&1; then ok
else fail "scripts/check-summary passed a summary altered by hand"; fi
# scripts/adaptation: one row per task and method; cosine's multiples are cosine's
if "$src/scripts/adaptation" "$tmp/suite" >"$tmp/adapt.csv" 2>&1 && "$py" - "$tmp/adapt.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
assert sorted(r["method"] for r in rows) == ["adam-const", "adam-cos", "cosine"], rows
const = [r for r in rows if r["method"] == "adam-const"][0]
assert const["x10"] == const["x50"] == const["x90"] == "1", const
cos = [r for r in rows if r["method"] == "adam-cos"][0]
assert 1 > float(cos["x10"]) > float(cos["x50"]) > float(cos["x90"]) > 0, cos
PY
then ok; else fail "scripts/adaptation: $(cat "$tmp/adapt.csv")"; fi
# a directory that is no suite's: one line naming it, exit 1, no traceback
msg=$("$src/scripts/adaptation" "$tmp/no-such-suite" 2>&1); rc=$?
if [ $rc = 1 ] && [ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] && [[ $msg == *no-such-suite* ]]; then ok
else fail "scripts/adaptation on a missing directory: rc $rc, $msg"; fi
if "$src/scripts/plot" suite "$tmp/profile.png" "$tmp/suite" >/dev/null 2>&1 &&
   [ -s "$tmp/profile.png" ] && [ "$(wc -l <"$tmp/profile.csv")" = 4 ]; then ok
else fail "scripts/plot suite"; fi

# scripts/rate-choice: the tuned cosine's two rates on the one task; the best has
# regret 0, the other its mean validation loss over the best's, less 1
if "$src/scripts/rate-choice" "$tmp/suite" cosine >"$tmp/rates.csv" 2>&1 &&
   "$py" - "$tmp/rates.csv" "$tmp/suite/tasks/a/tuning.csv" <<'PY'
import csv, sys
lines = open(sys.argv[1]).read().splitlines()
rows = list(csv.DictReader(lines[:-1]))
tune = [r for r in csv.DictReader(open(sys.argv[2])) if r["schedule"] == "cosine"]
mean = {float(r["lr"]): float(r["best_val_loss"]) for r in tune}   # one tuning seed
best = min(mean, key=mean.get)
assert len(rows) == 2 and all(r["tasks"] == "1" for r in rows), rows
for r in rows:
    want = mean[float(r["lr"])] / mean[best] - 1
    assert abs(float(r["mean_val_regret"]) - want) < 1e-4, (r, want)
assert lines[-1].startswith("# best: %g " % best), lines[-1]
PY
then ok; else fail "scripts/rate-choice: $(cat "$tmp/rates.csv")"; fi
if ! "$src/scripts/rate-choice" "$tmp/suite" wsd >/dev/null 2>&1; then ok
else fail "scripts/rate-choice took a schedule the suite did not tune"; fi

# ---- 5. scripts/intervention ----------------------------------------------------------
iv=$tmp/iv
ivflags=(--controller "$tmp/elsewhere/controller.bin" --fixed cosine --lr 1e-2)
if "$src/scripts/intervention" "$iv" "${ivflags[@]}" -- $child --eval-every 5 --threads 1 \
       >"$tmp/iv.out" 2>"$tmp/iv.err" && [ -s "$iv/intervention.png" ] &&
   [ "$(wc -l <"$iv/COMMANDS")" = 4 ] && "$py" - "$iv/intervention.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
runs = {}
for r in rows:
    runs.setdefault(r["run"], []).append(r)
assert sorted(runs) == ["controller", "controller-plain", "fixed", "fixed-plain"], sorted(runs)
for name in ("controller", "fixed"):
    a, b = runs[name], runs[name + "-plain"]
    assert [r["step"] for r in a] == ["5", "10", "15", "20"] == [r["step"] for r in b], a
    assert a[0]["change_at"] == "10" and b[0]["change_at"] == "0", (a[0], b[0])
    for x, y in zip(a[:2], b[:2]):  # up to the change (half of 20 steps): the plain run
        assert (x["lr"], x["train_loss"], x["val_loss"]) == (y["lr"], y["train_loss"], y["val_loss"])
    assert all(x["train_loss"] != y["train_loss"] for x, y in zip(a[2:], b[2:])), (a, b)
assert [r["lr"] for r in runs["fixed"]] == [r["lr"] for r in runs["fixed-plain"]]
PY
then ok; else fail "scripts/intervention: $(tail -3 "$tmp/iv.err")"; fi
if "$src/scripts/intervention" "$iv" "${ivflags[@]}" -- $child --eval-every 5 --threads 1 \
       >/dev/null 2>"$tmp/iv2.err" && [ "$(grep -c 'finished before, kept' "$tmp/iv2.err")" = 4 ]
then ok; else fail "scripts/intervention again: $(tail -3 "$tmp/iv2.err")"; fi
finish
