"""Time and peak memory to generate and derive a district, a city and a province.

Also times writing and reading each as a CSV bundle (peak memory includes that).

Each size runs in its own child process so its peak memory (ru_maxrss) is its own.
Ratios are against the district measured in the same run (the machine is shared and
noisy; absolute seconds vary, ratios much less). Targets (issue 2): the province in
≤ 120 s and ≤ 4 GiB on a 2-core machine.

    python bench/bench_grid_models.py [--presets district,city,province]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from grid_models import PRESETS, generate_network, model_from_net
t1 = time.perf_counter()
net = generate_network(PRESETS[sys.argv[1]])
t2 = time.perf_counter()
model = model_from_net(net)
t3 = time.perf_counter()
s = model.summary()
import tempfile
from grid_models import read_bundle, write_bundle
with tempfile.TemporaryDirectory() as tmp:
    t4 = time.perf_counter()
    write_bundle(net, tmp + "/bundle")
    t5 = time.perf_counter()
    read_bundle(tmp + "/bundle")
    t6 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "generate_s": t2 - t1, "derive_s": t3 - t2,
                  "bundle_write_s": t5 - t4, "bundle_read_s": t6 - t5,
                  "buses": s["buses"], "substations": s["substations"], "feeders": s["feeders"],
                  "distribution_transformers": s["distribution_transformers"],
                  "lines": s["lines"], "problems": len(s["problems"])}))
"""


def run(preset: str) -> dict[str, float]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, preset], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{preset}: child failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_gib"] = usage.ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux
    result["total_s"] = result["generate_s"] + result["derive_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="district,city,province")
    args = parser.parse_args()
    presets = args.presets.split(",")
    results = {p: run(p) for p in presets}
    base = results[presets[0]]
    header = (
        f"{'preset':<9} {'subs':>5} {'feeders':>7} {'dist.tr':>7} {'buses':>8} "
        f"{'gen s':>7} {'derive s':>8} {'total s':>8} {'peak GiB':>8} "
        f"{'buses×':>7} {'time×':>7} {'bundle w/r s':>13}"
    )
    print(header)
    print("-" * len(header))
    for p, r in results.items():
        print(
            f"{p:<9} {r['substations']:>5} {r['feeders']:>7} "
            f"{r['distribution_transformers']:>7} {r['buses']:>8} {r['generate_s']:>7.2f} "
            f"{r['derive_s']:>8.2f} {r['total_s']:>8.2f} {r['peak_rss_gib']:>8.2f} "
            f"{r['buses'] / base['buses']:>7.1f} {r['total_s'] / base['total_s']:>7.1f} "
            f"{r['bundle_write_s']:>6.1f}/{r['bundle_read_s']:<6.1f}"
        )
    if "province" in results:
        r = results["province"]
        ok = (
            r["total_s"] <= 120
            and r["peak_rss_gib"] <= 4
            and r["substations"] >= 300
            and r["buses"] >= 100_000
        )
        print(
            f"\nprovince target (≥300 substations, ≥100 000 buses, ≤120 s, ≤4 GiB): "
            f"{'met' if ok else 'NOT met'} — {r['substations']} substations, "
            f"{r['buses']} buses, {r['total_s']:.1f} s, {r['peak_rss_gib']:.2f} GiB"
        )


if __name__ == "__main__":
    main()
