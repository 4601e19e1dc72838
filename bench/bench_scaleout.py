"""Capacity sweeps: how time grows with network size, and a Dask local cluster vs one process.

    python bench/bench_scaleout.py

For the district, city and province presets: the single-process rule-based sweep of every
element and point (model loaded once, not timed); then the province on a LocalCluster of
2 workers (each worker loads the province itself: that start-up is reported apart).
Ratios are measured in the same run.
"""

from __future__ import annotations

import time

from capacity import distributed_rule_capacity, rule_capacity
from grid_models import load_model


def main() -> None:
    print(f"{'network':<18} {'buses':>8} {'elements':>9} {'sweep s':>8} {'s per 1k buses':>15}")
    times = {}
    models = {}
    for spec in ("builtin:district", "builtin:city", "builtin:province"):
        model = load_model(spec)
        models[spec] = model
        t0 = time.perf_counter()
        single = rule_capacity(model).elements
        took = time.perf_counter() - t0
        times[spec] = (len(model.net.bus), took, single)
        print(
            f"{spec:<18} {len(model.net.bus):>8} {len(single):>9} {took:>8.2f} "
            f"{took / len(model.net.bus) * 1000:>15.3f}"
        )
    b0, t0_, _ = times["builtin:district"]
    b1, t1_, single = times["builtin:province"]
    print(f"growth district → province: buses ×{b1 / b0:.0f}, sweep time ×{t1_ / t0_:.0f}")
    spec = "builtin:province"
    start = time.perf_counter()
    spread = distributed_rule_capacity(spec, n_workers=2, model=models[spec], n_partitions=2)
    took = time.perf_counter() - start
    same = set(spread) == set(single) and all(
        spread[k].to_dict() == v.to_dict() for k, v in single.items()
    )
    print(
        f"province on a LocalCluster (2 workers, each loading the province): {took:.1f} s "
        f"wall vs {t1_:.1f} s in one process; identical element for element: {same}"
    )


if __name__ == "__main__":
    main()
