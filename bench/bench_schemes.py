"""Schemes on builtin:anyang: 1 000 applications checked rule by rule, and the batch optimiser.

    python bench/bench_schemes.py                   # schemes, then batch
    python bench/bench_schemes.py schemes           # time per scheme + every rule checked
    python bench/bench_schemes.py schemes --baseline 355b630   # and the same 1 000 on an
                                                    # older commit, in the same run
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


# ----------------------------------------------------------------------------- the checks


def violations(scheme: dict[str, Any], raw: dict[str, Any], ctx: Any, recheck: bool) -> list[str]:
    """Every rule of domain §6 that ``scheme`` breaks, worked out independently."""
    rules = ctx.rules
    r = rules.get("scheme")
    out: list[str] = []
    demand = float(scheme["demand_kva"])
    hv = scheme["supply_voltage_kv"] >= 1.0
    level = "mv" if hv else "lv"
    drop_limit = float(r["voltage_drop_max_percent"][level])
    plan = scheme.get("transition_plan")
    for o in scheme["options"]:
        carried = {s["carries_kva"] for s in o["sources"]}
        if len(carried) > 1:
            out.append(f"{o['option_id']}: the load is split across sources {sorted(carried)}")
        feeders = [s["feeder_id"] or s["connection_point_id"] for s in o["sources"]]
        if len(set(feeders)) != len(feeders):
            out.append(f"{o['option_id']}: two sources on one feeder")
        if len(o["sources"]) < scheme["sources_required"] and not scheme["constrained"]:
            out.append(f"{o['option_id']}: fewer sources than required")
        for s in o["sources"]:
            out += _source_violations(o, s, scheme, demand, drop_limit, hv, ctx)
        out += _date_violations(o)
    if scheme["constrained"] and plan:
        out += _plan_violations(scheme, plan, demand, ctx, recheck)
    level_kv = scheme["supply_voltage_kv"]
    if hv:
        for o in scheme["options"]:
            for s in o["sources"]:
                if abs(s["bus_voltage_kv"] - level_kv) > 1e-6:
                    out.append(f"supply {level_kv} kV from a {s['bus_voltage_kv']} kV bus")
    es = scheme.get("emergency_source")
    level_iu = raw.get("important_user_level")
    if (
        hv
        and level_iu in ("special", "first", "second")
        and (not es or es["min_kva"] < 1.2 * es["security_load_kva"] - 1e-6)
    ):
        out.append("important user without an emergency source of ≥ 120 % security load")
    return out


def _source_violations(
    o: dict[str, Any],
    s: dict[str, Any],
    scheme: dict[str, Any],
    demand: float,
    drop_limit: float,
    hv: bool,
    ctx: Any,
) -> list[str]:
    out = []
    point = ctx.points[s["connection_point_id"]]
    carries = float(s["carries_kva"])
    if not scheme["constrained"]:
        if abs(carries - demand) > 0.1:
            out.append(f"{o['option_id']}: a source carries {carries} of {demand} kVA")
        if point.openable_kva < demand - 1e-6:
            out.append(f"{o['option_id']}: {point.id} offers {point.openable_kva:.0f} < {demand}")
    elif o.get("stage") == "interim":
        plan = scheme["transition_plan"]
        freed = sum(m["freed_kva"] for m in plan["measures"] if m["kind"] == "load_transfer")
        if carries > max(point.openable_kva, 0.0) + freed + 0.1:
            out.append(f"{o['option_id']}: interim {carries} > openable {point.openable_kva:.0f}")
    elif abs(carries - demand) > 0.1 or s["openable_kva_after_projects"] < demand - 0.1:
        out.append(
            f"{o['option_id']}: after projects {s['openable_kva_after_projects']} < {demand}"
        )
    c = s["conductor"]
    if c is None:
        out.append(f"{o['option_id']}: a source without a sized conductor")
        return out
    volt = scheme["supply_voltage_kv"]
    phases = scheme["phases"]
    sized_for = carries if o.get("stage") == "interim" else demand
    amps = sized_for / (volt if phases == 1 else math.sqrt(3) * volt) / s["circuits"]
    if c["rating_a"] < amps - 0.5:
        out.append(f"{o['option_id']}: {c['type']} rated {c['rating_a']} A < {amps:.0f} A")
    switch = float(ctx.rules.get("scheme.sizing.switchgear_limit_a")["mv" if hv else "lv"])
    if amps > switch + 0.5:
        out.append(f"{o['option_id']}: {amps:.0f} A per circuit > switchgear {switch:.0f} A")
    if s["voltage_drop_percent"] > drop_limit + 1e-6:
        out.append(f"{o['option_id']}: {s['voltage_drop_percent']} % drop > {drop_limit} %")
    return out


def _date_violations(o: dict[str, Any]) -> list[str]:
    out = []
    sch = o["schedule"]
    works = [st["due_date"] for st in sch["steps"] if st["step"] == "supporting_project"]
    conn = [st["due_date"] for st in sch["steps"] if st["step"] == "metering_connection"]
    if works and conn and conn[0] < max(works):
        out.append(f"{o['option_id']}: connection {conn[0]} before its works end {max(works)}")
    if o["due_date"] < max((st["due_date"] for st in sch["steps"] if st["due_date"]), default=""):
        out.append(f"{o['option_id']}: due {o['due_date']} before a step it depends on")
    projects = o.get("supporting_projects") or []
    if projects and not works:
        out.append(f"{o['option_id']}: supporting projects without their time")
    return out


def _plan_violations(
    scheme: dict[str, Any], plan: dict[str, Any], demand: float, ctx: Any, recheck: bool
) -> list[str]:
    out = []
    projects = plan["upgrade_projects"]
    if plan["closes_gap"]:
        last = projects[-1]["capacity_after_kva"] if projects else None
        if last is None or last < demand - 1e-6:
            out.append(f"plan says it closes the gap but ends at {last} < {demand}")
        if plan["full_demand_date"] is None:
            out.append("a plan that closes the gap without a full-demand date")
    dates = (plan["full_demand_date"], plan["interim_connection_date"])
    if all(dates) and dates[0] < dates[1]:
        out.append("full demand before the interim connection")
    if recheck and scheme["options"] and len(scheme["options"][0]["sources"]) == 1:
        cp = scheme["options"][0]["sources"][0]["connection_point_id"]
        out += _recheck(projects, cp, demand, ctx)
    return out


def _recheck(projects: list[dict[str, Any]], cp: str, demand: float, ctx: Any) -> list[str]:
    """Each project's capacity-after worked out again here."""
    from capacity import HostingCriteria, point_capacity_after

    out = []
    grid = [p for p in projects if p["kind"] in _GRID_PROJECTS]
    for k, p in enumerate(projects):
        said = p["capacity_after_kva"]
        if said is None:
            continue
        if p["kind"] == "new_feeder":
            got = ctx.points[p["from_connection_point_id"]].openable_kva
        elif p["kind"] == "new_distribution_transformer":
            lam = float(ctx.rules.get("capacity.distribution_transformer_load_rate"))
            from grid_models import load_catalogue

            size = load_catalogue().transformer_type(p["new_type"]).sn_kva
            got = min(ctx.points[p["from_connection_point_id"]].openable_kva, size * lam)
        else:
            upto = grid[: grid.index(p) + 1]
            point = ctx.points[cp]
            ac = HostingCriteria.from_rules(ctx.rules) if point.ac_kva < demand else None
            got = point_capacity_after(
                ctx.model, cp, _projects_of(upto), ctx.reservations, rules=ctx.rules, criteria=ac
            ).openable_kva
        if abs(got - said) > max(1.0, 0.01 * abs(said)):
            out.append(f"{cp}: capacity after project {k + 1} is {got:.0f}, the plan says {said}")
    return out


_GRID_PROJECTS = (
    "reconductor",
    "distribution_transformer_replacement",
    "main_transformer_replacement",
)


def _projects_of(dicts: list[dict[str, Any]]) -> list[Any]:
    """The plan's projects rebuilt from their JSON (line → type, transformer → type)."""
    from capacity import Project

    out = []
    for p in dicts:
        if p["kind"] == "reconductor":
            pairs = tuple((int(i), str(t)) for i, t in p["line_types"])
            out.append(Project("reconductor", p["element_id"], "", 0.0, 0, pairs))
        else:
            pair = (str(p["element_id"]), str(p["new_type"]))
            out.append(Project(p["kind"], p["element_id"], "", 0.0, 0, transformer=pair))
    return out


def schemes(args: argparse.Namespace) -> None:
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
    parser.add_argument("parts", nargs="*", default=["schemes", "batch"])
    parser.add_argument("--network", default="builtin:anyang")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--baseline", default=None, help="commit to compare with (same run)")
    parser.add_argument(
        "--recheck-every", type=int, default=1, help="recompute project capacities of every k-th"
    )
    args = parser.parse_args()
    for part in args.parts:
        {"schemes": schemes, "batch": batch}[part](args)


if __name__ == "__main__":
    main()
