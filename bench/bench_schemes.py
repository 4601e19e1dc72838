"""Schemes on builtin:anyang: 1 000 applications checked rule by rule, and the batch optimiser.

    python bench/bench_schemes.py                   # schemes, then batch
    python bench/bench_schemes.py schemes           # time per scheme + every rule checked
    python bench/bench_schemes.py schemes --baseline 355b630   # and the same 1 000 on an
                                                    # older commit, in the same run
    python bench/bench_schemes.py kinds             # estates, EV, temporary, wells, 5G,
                                                    # special level, beyond one circuit
    python bench/bench_schemes.py batch             # 1 000 × ≥ 20 candidates: CP-SAT vs greedy

The 1 000 applications are fixed in ``bench/data/applications_1000.jsonl`` (drawn once,
within 400 m of a random connection point of the network, the way real applications
arrive), so runs and commits compare like with like. Every scheme is checked against the
rules of domain §6 independently of the code that made it: each source carries the whole
demand (and has the capacity for it, unless constrained), the conductor's rating carries
the current worked out here from the demand, the voltage at the customer is within its
limit, the supply voltage is the source bus's, no date is earlier than the works it
depends on, every upgrade project's capacity-after is recomputed here and a plan that says
it closes the gap does, important users get an emergency source of at least 120 % of the
security load. ``--baseline REV`` runs the same applications on commit REV (a temporary
git worktree, its own network) in a subprocess, for before/after figures: median time,
share constrained, total cost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "bench" / "data" / "applications_1000.jsonl"
sys.path.insert(0, str(ROOT))  # the rule checks live with the tests: tests/scheme_generator


def load_apps() -> list[dict[str, Any]]:
    return [json.loads(line) for line in APPS.read_text("utf-8").splitlines() if line.strip()]


def summary_of(apps: list[dict[str, Any]], spec: str) -> dict[str, Any]:
    """Median time, constrained share and cost over ``apps`` (works on any commit that
    has ``generate_scheme``: only contract fields are read)."""
    from grid_models import load_model
    from scheme_generator import SchemeContext, generate_scheme, parse_application

    ctx = SchemeContext.build(load_model(spec))
    times, constrained, connection, upgrades = [], 0, 0.0, 0.0
    schemes = []
    for raw in apps:
        app = parse_application(raw)
        t0 = time.perf_counter()
        s = generate_scheme(ctx, app)
        times.append(time.perf_counter() - t0)
        schemes.append(s)
        constrained += bool(s["constrained"])
        rec = next((o for o in s["options"] if o["option_id"] == s["recommended_option_id"]), None)
        connection += rec["cost_cny"]["total"] if rec else 0.0
        plan = s.get("transition_plan") or {}
        upgrades += sum(float(p["cost_cny"]) for p in plan.get("upgrade_projects", []))
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": sorted(times)[int(0.95 * len(times)) - 1] * 1000,
        "constrained": constrained,
        "n": len(apps),
        "connection_cost_m": connection / 1e6,
        "upgrade_cost_m": upgrades / 1e6,
        "_schemes": schemes,
        "_ctx": ctx,
    }


def baseline(rev: str, n: int) -> dict[str, Any]:
    """The same applications on commit ``rev`` in a temporary worktree (subprocess)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev],
            check=True,
        )
        try:
            code = (
                "import json,sys;sys.path.insert(0,sys.argv[1]);"
                "sys.path.insert(0,sys.argv[1]+'/bench');"
                "from bench_schemes_shim import run;print(json.dumps(run(int(sys.argv[2]))))"
            )
            shim = tree / "bench" / "bench_schemes_shim.py"
            shim.write_text(
                f"import json\nfrom pathlib import Path\nAPPS = Path({str(APPS)!r})\n" + _SHIM,
                "utf-8",
            )
            env = dict(os.environ, PYTHONPATH=str(tree))
            out = subprocess.run(
                [sys.executable, "-W", "ignore", "-c", code, str(tree), str(n)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
                cwd=tree,
            )
            return dict(json.loads(out.stdout.strip().splitlines()[-1]))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
            )


_SHIM = """
import statistics, time

def run(n):
    from grid_models import load_model
    from scheme_generator import SchemeContext, generate_scheme, parse_application
    apps = [json.loads(l) for l in APPS.read_text("utf-8").splitlines() if l.strip()][:n]
    ctx = SchemeContext.build(load_model("builtin:anyang"))
    times, constrained, conn, up = [], 0, 0.0, 0.0
    for raw in apps:
        app = parse_application(raw)
        t0 = time.perf_counter()
        s = generate_scheme(ctx, app)
        times.append(time.perf_counter() - t0)
        constrained += bool(s["constrained"])
        rec = next((o for o in s["options"] if o["option_id"] == s["recommended_option_id"]), None)
        conn += rec["cost_cny"]["total"] if rec else 0.0
        plan = s.get("transition_plan") or {}
        up += sum(float(p["cost_cny"]) for p in plan.get("upgrade_projects", []))
    return {"median_ms": statistics.median(times) * 1000, "constrained": constrained,
            "n": len(apps), "connection_cost_m": conn / 1e6, "upgrade_cost_m": up / 1e6}
"""


def schemes(args: argparse.Namespace) -> None:
    from tests.scheme_generator.scheme_checks import violations

    apps = load_apps()[: args.n]
    before = baseline(args.baseline, args.n) if args.baseline else None
    now = summary_of(apps, args.network)
    ctx = now["_ctx"]
    bad: dict[str, int] = {}
    examples: list[str] = []
    for i, (raw, s) in enumerate(zip(apps, now["_schemes"], strict=True)):
        found = violations(s, raw, ctx, recheck=i % args.recheck_every == 0)
        for v in found:
            key = v.split(":")[-1].strip().split(" ")[0] if ":" in v else v
            bad[key] = bad.get(key, 0) + 1
        if found and len(examples) < 10:
            examples.append(f"  app {i}: {found[0]}")
    total = sum(bad.values())
    print(
        f"{now['n']} schemes on {args.network}: median {now['median_ms']:.1f} ms, "
        f"p95 {now['p95_ms']:.1f} ms; constrained {now['constrained']} "
        f"({100 * now['constrained'] / now['n']:.1f} %); connection cost "
        f"{now['connection_cost_m']:.1f} M CNY, upgrade projects {now['upgrade_cost_m']:.1f} M CNY"
    )
    print(f"rule violations: {total}" + (f" {bad}" if bad else ""))
    print("\n".join(examples))
    if before:
        print(
            f"baseline {args.baseline} (same {before['n']} applications, same run): median "
            f"{before['median_ms']:.1f} ms, constrained {before['constrained']} "
            f"({100 * before['constrained'] / before['n']:.1f} %), connection "
            f"{before['connection_cost_m']:.1f} M, upgrades {before['upgrade_cost_m']:.1f} M"
        )
        print(
            f"ratio of median times (now / baseline): {now['median_ms'] / before['median_ms']:.2f}"
        )


def other_kinds(ctx: Any, n: int, seed: int = 2027) -> list[dict[str, Any]]:
    """Applications of the kinds the fixed 1 000 hold few of: estates, EV charging,
    temporary supply, irrigation wells, 5G base stations, special-level users and loads
    beyond one 10 kV circuit, near random connection points."""
    import random

    rng = random.Random(seed)
    ids = [i for i in ctx.ids if ctx.points[i].kind != "lv_branch_box"]
    out = []
    for k in range(n):
        p = ctx.points[rng.choice(ids)]
        d, bearing = rng.uniform(20, 400), rng.uniform(0, 2 * math.pi)
        lon = p.lon_deg + d * math.sin(bearing) / (111320 * math.cos(math.radians(p.lat_deg)))
        lat = p.lat_deg + d * math.cos(bearing) / 110570
        base = {
            "customer_name": "某单位",
            "customer_type": "non_resident",
            "business": "new",
            "ownership": "private",
            "location": {"lon": lon, "lat": lat},
            "application_date": "2026-06-01",
            "objective": rng.choice(["cheapest", "nearest"]),
        }
        kind = k % 7
        if kind == 0:
            extra = {
                "category": "residential_estate",
                "industry": "residential",
                "households": rng.choice([80, 200, 450]),
                "capacity_kva": rng.choice([1600, 3200, 6000]),
            }
        elif kind == 1:
            extra = {
                "category": "ev_charging",
                "industry": "commercial",
                "capacity_kva": rng.choice([120, 630, 1250, 2500]),
            }
        elif kind == 2:
            extra = {
                "category": "temporary",
                "industry": "industrial",
                "capacity_kva": rng.choice([80, 315, 800]),
            }
        elif kind == 3:
            extra = {
                "category": "irrigation_well",
                "industry": "agriculture",
                "ownership": "individual",
                "capacity_kva": rng.choice([15, 30, 55]),
            }
        elif kind == 4:
            extra = {
                "category": "base_station_5g",
                "industry": "telecom_base_station",
                "capacity_kva": rng.choice([10, 20, 40]),
            }
        elif kind == 5:
            extra = {
                "industry": "public_service",
                "important_user_level": "special",
                "capacity_kva": rng.choice([2000, 4000]),
                "security_load_kva": 600,
            }
        else:
            extra = {"industry": "industrial", "capacity_kva": rng.choice([12000, 16000, 20000])}
        out.append(base | extra)
    return out


def kinds(args: argparse.Namespace) -> None:
    """The other kinds, every rule checked (no baseline: the older code had no estates)."""
    from grid_models import load_model
    from scheme_generator import SchemeContext, generate_scheme, parse_application
    from tests.scheme_generator.scheme_checks import violations

    ctx = SchemeContext.build(load_model(args.network))
    apps = other_kinds(ctx, args.kinds_n)
    bad, constrained, review, times = 0, 0, 0, []
    for raw in apps:
        t0 = time.perf_counter()
        s = generate_scheme(ctx, parse_application(raw))
        times.append(time.perf_counter() - t0)
        found = violations(s, raw, ctx, recheck=True)
        bad += bool(found)
        constrained += bool(s["constrained"])
        review += bool(s.get("review_required"))
        if found and bad <= 5:
            print(f"  {raw.get('category', raw['industry'])}: {found[0]}")
    print(
        f"{len(apps)} applications of other kinds (estates, EV, temporary, wells, 5G, special "
        f"level, beyond one circuit): median {statistics.median(times) * 1000:.1f} ms; "
        f"constrained {constrained}, professional review {review}; schemes breaking a rule: {bad}"
    )


def batch(args: argparse.Namespace) -> None:
    from grid_models import load_model
    from scheme_generator import BatchProblem, SchemeContext, greedy, parse_application, solve_batch

    ctx = SchemeContext.build(load_model(args.network))
    raw = [a for a in load_apps() if a["capacity_kva"] >= 120][: args.n]
    apps = [parse_application(a | {"ownership": "chain_branch"}) for a in raw]
    t0 = time.perf_counter()
    problem = BatchProblem.build(ctx, apps, min_candidates=20)
    t1 = time.perf_counter()
    counts = problem.considered
    usable = [len(c) for c in problem.candidates]
    print(
        f"batch: {len(apps)} applications, candidates considered per application min "
        f"{min(counts)}, median {statistics.median(counts):.0f} (usable after bays and voltage: "
        f"median {statistics.median(usable):.0f}); {len(problem.capacity_kva)} shared capacity "
        f"pools; built in {t1 - t0:.1f} s"
    )
    g = greedy(problem)
    s = solve_batch(problem, time_limit_s=25.0, hint=g)
    for res in (g, s):
        print(
            f"  {res.method:<7} served {res.served:>4}, cost {res.cost_cny / 1e6:9.2f} M CNY, "
            f"{res.seconds:6.2f} s, feasible {problem.feasible(res.assignment)}"
            f"{', optimal' if res.optimal else ''}"
        )
    penalty = 1e8
    obj_g = g.cost_cny + penalty * (len(apps) - g.served)
    obj_s = s.cost_cny + penalty * (len(apps) - s.served)
    print(
        f"  objective (cost + 100 M CNY per unserved application): greedy {obj_g / 1e6:.1f} M,"
        f" CP-SAT {obj_s / 1e6:.1f} M ({'≤' if obj_s <= obj_g else '>'} greedy)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["schemes", "kinds", "batch"])
    parser.add_argument("--network", default="builtin:anyang")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--kinds-n", type=int, default=350, help="applications of other kinds")
    parser.add_argument("--baseline", default=None, help="commit to compare with (same run)")
    parser.add_argument(
        "--recheck-every", type=int, default=1, help="recompute project capacities of every k-th"
    )
    args = parser.parse_args()
    for part in args.parts:
        {"schemes": schemes, "kinds": kinds, "batch": batch}[part](args)


if __name__ == "__main__":
    main()
