"""Markdown tables of suite mf-robust (issue 18 item 5): final score and time to random search's median, per problem.

Usage (from the repository root): python benchmarks/results/mf-robust/tables.py --suites mf-robust dev0 --problems ... --methods ...
Suite dev0 holds rung-bohb-asha as it was before the guards (= rung-bohb-classic-asha).
"""
import sys, math, argparse, fnmatch
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np, pandas as pd
from benchmarks.harness._store import load_results
from benchmarks.harness import _scoring as S
from benchmarks.harness._report import optima_of
p = argparse.ArgumentParser()
p.add_argument("--suites", nargs="+", default=["mf-robust"])
p.add_argument("--store", default="benchmarks/results/mf-robust/runs.db")
p.add_argument("--problems", nargs="+")
p.add_argument("--methods", nargs="+")
a = p.parse_args()
res = {}
for suite in a.suites:
    for r in load_results(a.store, suite):
        res.setdefault(r.key, r)
res = [r for r in res.values() if any(fnmatch.fnmatch(r.problem, q) for q in a.problems) and r.method in a.methods]
probs = [q for q in a.problems if any(r.problem == q for r in res)]
opt = optima_of(probs)
sc = S.scores(res, opt, fractions=(1.0,))
tt = S.time_to_target_summary(res)
short = lambda c: c.replace("lcbench-", "lcb-").replace("mf-hartmann6-", "h6-").replace("counting-ones-", "co-").replace("xgboost-", "xgb-")
print("Final normalized score (mean over seeds; seeds in brackets when fewer than 10):\n")
print("| method | " + " | ".join(short(q) for q in probs) + " | mean |")
print("|---|" + "---:|" * (len(probs) + 1))
for m in a.methods:
    cells = []; vals = []
    for q in probs:
        s = sc[(sc.problem == q) & (sc.method == m)]["score"]
        if len(s) == 0: cells.append("-"); continue
        vals.append(s.mean()); cells.append(f"{s.mean():.1f}" + ("" if len(s) >= 10 else f" ({len(s)})"))
    mean = f"{np.mean(vals):.1f}" if len(vals) == len(probs) else "-"
    print(f"| {m} | " + " | ".join(cells) + f" | {mean} |")
print("\nSimulated seconds until half the seeds reached random search's median final value (seeds that reached it / seeds):\n")
print("| method | " + " | ".join(short(q) for q in probs) + " |")
print("|---|" + "---:|" * len(probs))
for m in a.methods:
    cells = []
    for q in probs:
        row = tt[(tt.problem == q) & (tt.method == m)]
        if len(row) == 0: cells.append("-"); continue
        t = row.median_time.iloc[0]; cells.append(("never" if not math.isfinite(t) else f"{t:.0f}") + f" ({row.reached.iloc[0]}/{row.seeds.iloc[0]})")
    print(f"| {m} | " + " | ".join(cells) + " |")
