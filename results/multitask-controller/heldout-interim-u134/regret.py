#!/usr/bin/python3
"""Regret of one self-tuning method run apart (NEW/suite.csv) against results/suite-heldout's
best tuned mean per task, beside that suite's self-tuning rows; paired t-test against
sf-adamw-warmup per task (same seeds), Holm over the tasks."""
import csv, sys, collections
from scipy import stats
old, new = sys.argv[1], sys.argv[2]
summ = list(csv.DictReader(open(old + "/suite-summary.csv")))
best = {}
for r in summ:
    if r["track"] == "tuned":
        v = float(r["test_loss_mean"])
        best[r["task"]] = min(best.get(r["task"], v), v)
runs = collections.defaultdict(dict)
for path in (old + "/suite.csv", new + "/suite.csv"):
    for r in csv.DictReader(open(path)):
        if r["track"] == "self-tuning":
            runs[(r["task"], r["method"])][int(r["seed"])] = float(r["test_loss"])
tasks = list(best)
methods = sorted({m for (_, m) in runs}, key=lambda m: (m != "multitask-sf-u134", m))
print("method,mean_regret,worst,within_2pct,within_5pct")
reg = {}
for m in methods:
    rs = [sum(runs[(t, m)].values()) / len(runs[(t, m)]) / best[t] - 1 for t in tasks]
    reg[m] = rs
    print("%s,%.4f,%.4f,%d,%d" % (m, sum(rs) / len(rs), max(rs), sum(r <= 0.02 for r in rs),
                                  sum(r <= 0.05 for r in rs)))
print()
print("task,best_tuned,controller,sf_adamw_warmup,regret_controller,regret_sf_warmup,diff,p,p_holm")
ps, rows = [], []
for t in tasks:
    a, b = runs[(t, "multitask-sf-u134")], runs[(t, "sf-adamw-warmup")]
    seeds = sorted(set(a) & set(b))
    d = [a[s] - b[s] for s in seeds]
    p = stats.ttest_rel([a[s] for s in seeds], [b[s] for s in seeds]).pvalue
    ps.append(p)
    rows.append((t, best[t], sum(a.values()) / len(a), sum(b.values()) / len(b), sum(d) / len(d)))
order = sorted(range(len(ps)), key=lambda i: ps[i])
holm, run = [0] * len(ps), 0
for k, i in enumerate(order):
    run = max(run, min(1, (len(ps) - k) * ps[i]))
    holm[i] = run
for (t, bt, c, s, d), p, h in zip(rows, ps, holm):
    print("%s,%.4f,%.4f,%.4f,%.4f,%.4f,%+.4f,%.3g,%.3g" % (t, bt, c, s, c / bt - 1, s / bt - 1, d, p, h))
