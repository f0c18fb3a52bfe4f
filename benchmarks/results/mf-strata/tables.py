"""Issue 18 item 5 tables (the random stratum): python benchmarks/results/mf-strata/tables.py N [problems]; seeds < N, scored together."""
import sys, math
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np
from benchmarks.harness._store import load_results
from benchmarks.harness import _scoring as S
from benchmarks.harness._report import optima_of
import dataclasses
from pathlib import Path
store = str(Path(__file__).with_name("runs.db"))  # gunzip -k runs.db.gz first
N = int(sys.argv[1])
probs = [p for p in (sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else None) or []] or ["lcbench-34539", "lcbench-126026", "lcbench-3945", "lcbench-146212", "lcbench-167104", "xgboost-1489",
         "mf-hartmann6-highbias", "counting-ones-16d"]
spec = [("mf5new", "rung-auto", "rung-auto new (+ random stratum)"), ("mf5", "rung-auto", "rung-auto current"),
        ("mf5", "rung-bohb-nostrata-asha", "rung-auto current"),
        ("mf5", "rung-asha", "rung-asha"), ("mf5", "rung-random", "rung-random")]
extra = sys.argv[3:]
for e in extra:
    s, m = e.split(":"); spec.append((s, m, m))
res = []
cache = {}
for suite, method, label in spec:
    if suite not in cache: cache[suite] = load_results(store, suite)
    for r in cache[suite]:
        if r.method == method and r.problem in probs and r.seed < N:
            if any(x.method == label and x.problem == r.problem and x.seed == r.seed for x in res):
                continue
            res.append(dataclasses.replace(r, method=label))
opt = optima_of(probs)
sc = S.scores(res, opt, fractions=(1.0,))
tt = S.time_to_target_summary(res)
short = lambda c: c.replace("lcbench-", "lcb-").replace("mf-hartmann6-", "h6-").replace("counting-ones-", "co-").replace("xgboost-", "xgb-")
methods = list(dict.fromkeys(l for _, _, l in spec))


def print_table(title, cell):
    """One markdown table: a row per method, a column per problem, ``cell(problem, method)`` in each."""
    print(title + "\n")
    print("| method | " + " | ".join(short(q) for q in probs) + " |")
    print("|---|" + "---:|" * len(probs))
    for m in methods:
        print(f"| {m} | " + " | ".join(cell(q, m) for q in probs) + " |")


def score_cell(q, m):
    s = sc[(sc.problem == q) & (sc.method == m)]["score"]
    return "-" if len(s) == 0 else f"{s.mean():.1f}" + ("" if len(s) >= N else f" ({len(s)})")


def time_cell(q, m):
    row = tt[(tt.problem == q) & (tt.method == m)]
    if len(row) == 0:
        return "-"
    t = row.median_time.iloc[0]
    return ("never" if not math.isfinite(t) else f"{t:.0f}") + f" ({row.reached.iloc[0]}/{row.seeds.iloc[0]})"


print_table(f"Final normalized score, seeds 0-{N-1} (seed count in brackets when fewer):", score_cell)
print_table("\nSimulated s until half the seeds reached random search's median final value (reached/seeds):",
            time_cell)
from scipy import stats
print("\nnew - current and new - asha, mean difference with Welch 95% CI (seeds as in the table):\n")
for q in probs:
    a = sc[(sc.problem == q) & (sc.method == "rung-auto new (+ random stratum)")]["score"].dropna().values
    out = [short(q)]
    for other in ("rung-auto current", "rung-asha"):
        b = sc[(sc.problem == q) & (sc.method == other)]["score"].dropna().values
        d = a.mean() - b.mean(); se = math.sqrt(a.var(ddof=1)/len(a) + b.var(ddof=1)/len(b))
        t = stats.ttest_ind(a, b, equal_var=False)
        out.append(f"{other}: {d:+.1f} ± {1.96*se:.1f} (p={t.pvalue:.2f})")
    print(" | ".join(out))
