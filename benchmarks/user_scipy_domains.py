"""Cost of generic scipy domains (ppf/cdf, rung.space.ScipyDomain) against rung's own domains, per
suggestion + observation, for Random, TPE and GP (issue 13 item 1). Run: .venv/bin/python benchmarks/user_scipy_domains.py"""
import time, math, numpy as np, rung
from scipy import stats
from rung.searchers import TPE, GP, Random
native = {"a": rung.loguniform(1e-3, 1), "b": rung.randint(1, 20), "c": rung.uniform(0, 1), "d": rung.normal(0, 1)}
generic = {"a": stats.gamma(2.0, scale=0.1), "b": stats.poisson(5), "c": stats.beta(2, 5), "d": stats.truncnorm(-2, 2)}
def loss(c): return (math.log(c["a"]) + 2) ** 2 + (c["b"] - 5) ** 2 / 10 + (c["c"] - 0.3) ** 2 + c["d"] ** 2
for cls, n in [(Random, 200), (TPE, 100), (GP, 40)]:
    for label, space in [("native", native), ("scipy", generic)]:
        s = cls(rung.Space(space), metric="loss", mode="min", seed=0)
        t = time.perf_counter()
        for _ in range(n):
            c = s.suggest(); s.observe(c, {"loss": loss(c)})
        print(f"{cls.__name__:6s} {label:6s} {1000 * (time.perf_counter() - t) / n:7.2f} ms per suggest+observe ({n} trials)")
