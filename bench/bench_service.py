"""Load on `gridcap serve`, as an operator would put it on the service.

    python bench/bench_service.py single  [--database sqlite|postgresql] [--workers 1]
        one client alone: p50 of preview, select and GET /capacity?level=connection_point
    python bench/bench_service.py closed  [--clients 50] [--seconds 60] [--baseline REV]
        closed loop: each client previews, applies, selects, again; with --baseline the
        same on commit REV (a temporary git worktree) in the same run
    python bench/bench_service.py open    [--rates 20,30,40,50,60] [--seconds 60]
        open loop: Poisson arrivals at a fixed rate, preview : apply : select = 2 : 1 : 1
        (a select chooses an application an earlier apply made); the highest rate whose
        p99 stays within 250 ms for the whole run
    python bench/bench_service.py province
        builtin:province: seconds to ready (first scheme answerable), peak memory, select
        p50 against the same on anyang

Sites are near random connection points (ring-main units and poles). Every run ends with
an audit of the ledger: no element or point below zero that was not before, and the
ledger added up from zero equals the totals the service keeps. Traffic goes to 127.0.0.1
only. The machine is shared: compare figures of one run, not across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
P99_TARGET_S = 0.250


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, Any, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    try:
        conn.request(
            method,
            path,
            json.dumps(body) if body is not None else None,
            {"content-type": "application/json", **(headers or {})},
        )
        resp = conn.getresponse()
        raw = resp.read()
        took = time.perf_counter() - t0
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return resp.status, data, took
    finally:
        conn.close()


def database_url(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'load.sqlite3'}"
    from sqlalchemy import create_engine, text

    base = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    schema = f"load{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


class Server:
    """`gridcap serve` in a subprocess (this checkout, or another commit's worktree)."""

    def __init__(
        self, network: str, url: str, workers: int, tmp: Path, tree: Path | None = None
    ) -> None:
        self.port = free_port()
        self.t0 = time.perf_counter()
        code = "import sys; from api.cli import main; sys.argv[0] = 'gridcap'; main()"
        # every simulated client sends from this one address: no per-client rate limits
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "GRIDCAP_RATE_LIMITS": "off"}
        cwd = None
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
            cwd = str(tree)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                "serve",
                "--network",
                network,
                "--database",
                url,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / f"server-{self.port}.log", "w"),  # noqa: SIM115
            env=env,
            cwd=cwd,
        )

    def wait_ready(self, timeout_s: float = 600) -> float:
        """Seconds from start until /health says ok (or the old service answers 200)."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            try:
                status, data, _ = request(self.port, "GET", "/health")
                if status == 200 and isinstance(data, dict) and data.get("status") == "ok":
                    return time.perf_counter() - self.t0
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit("the server stopped; see its log")
            time.sleep(0.25)
        raise SystemExit("the server did not become ready")

    def peak_rss_mib(self) -> float:
        """The highest resident memory of the server and its worker processes (MiB)."""
        pids = [self.proc.pid, *_children(self.proc.pid)]
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _children(pid: int) -> list[int]:
    out = []
    for task in Path("/proc").glob("[0-9]*"):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(task.name))
            out += _children(int(task.name))
    return out


def sites(port: int) -> list[dict]:
    _, rows, _ = request(port, "GET", "/api/v1/capacity?level=connection_point")
    assert isinstance(rows, list), rows
    return [r for r in rows if r["kind"] in ("ring_main_unit", "pole") and r["lon_deg"]]


def body(rng: random.Random, points: list[dict]) -> dict:
    p = rng.choice(points)
    return {
        "customer_name": "安阳市某某有限公司",
        "customer_type": "non_resident",
        "business": "new",
        "industry": "commercial",
        "ownership": "chain_branch",
        "location": {
            "lon": p["lon_deg"] + rng.uniform(-0.002, 0.002),
            "lat": p["lat_deg"] + rng.uniform(-0.002, 0.002),
        },
        "capacity_kva": rng.choice([200, 315, 400, 630]),
        "application_date": dt.date.today().isoformat(),
    }


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, math.ceil(q * len(v)) - 1))] if v else math.nan


# ----------------------------------------------------------------------------- one client


def single(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gridcap-single-"))
    url = database_url(args.database, tmp)
    server = Server(args.network, url, args.workers, tmp)
    try:
        ready = server.wait_ready()
        port = server.port
        points = sites(port)
        rng = random.Random(1)
        took: dict[str, list[float]] = defaultdict(list)
        for _ in range(5):  # warm
            request(port, "POST", "/api/v1/schemes/preview", body(rng, points))
        for _ in range(args.n):
            app = body(rng, points)
            status, _, t = request(port, "POST", "/api/v1/schemes/preview", app)
            took["preview"].append(t)
            status, data, t = request(port, "POST", "/api/v1/applications", app)
            took["apply"].append(t)
            if status == 201:
                status, _, t = request(
                    port,
                    "POST",
                    f"/api/v1/applications/{data['application_id']}/select",
                    {"option_id": "A"},
                    {"Authorization": f"Bearer {data['access_token']}"},
                )
                if status == 200:
                    took["select"].append(t)
        for _ in range(max(10, args.n // 5)):
            _, _, t = request(port, "GET", "/api/v1/capacity?level=connection_point")
            took["capacity (connection points)"].append(t)
        print(f"one client, {args.network}, {args.database}, ready after {ready:.1f} s:")
        for name, values in took.items():
            print(
                f"  {name:<30} n={len(values):>4}  p50 {statistics.median(values) * 1000:6.1f} ms"
                f"  p99 {pct(values, 0.99) * 1000:6.1f} ms"
            )
        audit(url, args.network)
    finally:
        server.stop()


# ----------------------------------------------------------------------------- closed loop


def closed(args: argparse.Namespace) -> None:
    runs = [("now", None)]
    if args.baseline:
        runs.insert(0, (args.baseline, args.baseline))
    for label, rev in runs:
        tmp = Path(tempfile.mkdtemp(prefix="gridcap-closed-"))
        url = database_url(args.database, tmp)
        tree = _worktree(rev, tmp) if rev else None
        server = Server(args.network, url, args.workers, tmp, tree)
        try:
            server.wait_ready()
            port = server.port
            points = sites(port)
            for _ in range(2 * args.workers):
                request(port, "POST", "/api/v1/schemes/preview", body(random.Random(0), points))
            stats, codes, elapsed = _closed_loop(port, points, args.clients, args.seconds)
            total = sum(len(v) for v in stats.values())
            print(
                f"[{label}] {args.database}: {args.clients} clients, {args.workers} worker(s), "
                f"{elapsed:.0f} s: {total} requests, {total / elapsed:.1f} req/s"
            )
            for name in ("preview", "apply", "select"):
                v = stats[name]
                if v:
                    print(
                        f"  {name:<8} n={len(v):>5}  p50 {statistics.median(v) * 1000:7.0f} ms"
                        f"  p99 {pct(v, 0.99) * 1000:7.0f} ms"
                    )
            fives = sum(k for (_, c), k in codes.items() if c >= 500)
            print(
                "  status codes: "
                + ", ".join(f"{n} {c}: {k}" for (n, c), k in sorted(codes.items()))
                + f"; 5xx: {fives}"
            )
            if rev is None:
                audit(url, args.network)
        finally:
            server.stop()
            if tree is not None:
                _drop_worktree(tree)


def _closed_loop(
    port: int, points: list[dict], clients: int, seconds: float
) -> tuple[dict[str, list[float]], Counter[tuple[str, int]], float]:
    stats: dict[str, list[float]] = defaultdict(list)
    codes: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.time() < stop:
            app = body(rng, points)
            status, data = 0, None
            for name, path in (
                ("preview", "/api/v1/schemes/preview"),
                ("apply", "/api/v1/applications"),
            ):
                status, data, took = request(port, "POST", path, app)
                with lock:
                    stats[name].append(took)
                    codes[(name, status)] += 1
            if status != 201 or not isinstance(data, dict):
                continue
            status, _, took = request(
                port,
                "POST",
                f"/api/v1/applications/{data['application_id']}/select",
                {"option_id": "A"},
                {"Authorization": f"Bearer {data['access_token']}"},
            )
            with lock:
                stats["select"].append(took)
                codes[("select", status)] += 1

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats, codes, time.time() - t0


# ----------------------------------------------------------------------------- open loop


def open_loop(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gridcap-open-"))
    url = database_url(args.database, tmp)
    server = Server(args.network, url, args.workers, tmp)
    best = 0.0
    try:
        server.wait_ready()
        port = server.port
        points = sites(port)
        for _ in range(2 * args.workers):
            request(port, "POST", "/api/v1/schemes/preview", body(random.Random(0), points))
        print(
            f"open loop on {args.network}, {args.database}, {args.workers} worker(s), "
            f"{args.seconds:.0f} s per rate, preview:apply:select = 2:1:1"
        )
        for rate in [float(r) for r in args.rates.split(",")]:
            lat, codes, achieved = _open_run(port, points, rate, args.seconds, seed=int(rate))
            every = [t for v in lat.values() for t in v]
            p99 = pct(every, 0.99)
            fives = sum(k for c, k in codes.items() if c >= 500)
            parts = "  ".join(
                f"{n} p50 {statistics.median(v) * 1000:.0f}/p99 {pct(v, 0.99) * 1000:.0f} ms"
                for n, v in sorted(lat.items())
                if v
            )
            held = p99 <= P99_TARGET_S and fives == 0
            if held:
                best = max(best, rate)
            print(
                f"  {rate:5.0f} req/s offered, {achieved:5.1f} answered/s: p99 "
                f"{p99 * 1000:6.0f} ms {'holds' if held else 'misses'} ({parts}); "
                f"codes {dict(sorted(codes.items()))}"
            )
        print(f"  highest rate holding p99 ≤ {P99_TARGET_S * 1000:.0f} ms: {best:.0f} req/s")
        audit(url, args.network)
    finally:
        server.stop()


def _open_run(
    port: int, points: list[dict], rate: float, seconds: float, seed: int
) -> tuple[dict[str, list[float]], Counter[int], float]:
    rng = random.Random(seed)
    lat: dict[str, list[float]] = defaultdict(list)
    codes: Counter[int] = Counter()
    ready: list[tuple[str, str]] = []  # applied, not yet chosen
    lock = threading.Lock()

    def one(kind: str, app: dict) -> None:
        if kind == "select":
            with lock:
                pair = ready.pop() if ready else None
            if pair is None:
                kind = "preview"
        if kind == "preview":
            status, _, took = request(port, "POST", "/api/v1/schemes/preview", app)
        elif kind == "apply":
            status, data, took = request(port, "POST", "/api/v1/applications", app)
            if status == 201 and isinstance(data, dict):
                with lock:
                    ready.append((data["application_id"], data["access_token"]))
        else:
            app_id, token = pair  # type: ignore[misc]
            status, _, took = request(
                port,
                "POST",
                f"/api/v1/applications/{app_id}/select",
                {"option_id": "A"},
                {"Authorization": f"Bearer {token}"},
            )
        with lock:
            lat[kind].append(took)
            codes[status] += 1

    kinds = ("preview", "preview", "apply", "select")
    t0 = time.perf_counter()
    sent = 0
    with ThreadPoolExecutor(max_workers=256) as pool:
        at = t0
        while at - t0 < seconds:
            at += rng.expovariate(rate)
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, kinds[rng.randrange(4)], body(rng, points))
            sent += 1
    elapsed = time.perf_counter() - t0
    return lat, codes, sent / elapsed


# ----------------------------------------------------------------------------- province


def province(args: argparse.Namespace) -> None:
    out: dict[str, dict[str, float]] = {}
    for network in ("builtin:anyang", "builtin:province"):
        tmp = Path(tempfile.mkdtemp(prefix="gridcap-province-"))
        url = database_url(args.database, tmp)
        server = Server(network, url, 1, tmp)
        try:
            ready = server.wait_ready(timeout_s=900)
            port = server.port
            points = sites(port)
            rng = random.Random(3)
            t0 = time.perf_counter()
            request(port, "POST", "/api/v1/schemes/preview", body(rng, points))
            first = ready + (time.perf_counter() - t0)
            selects = []
            for _ in range(40):
                status, data, _ = request(port, "POST", "/api/v1/applications", body(rng, points))
                if status != 201:
                    continue
                status, _, took = request(
                    port,
                    "POST",
                    f"/api/v1/applications/{data['application_id']}/select",
                    {"option_id": "A"},
                    {"Authorization": f"Bearer {data['access_token']}"},
                )
                if status == 200:
                    selects.append(took)
            out[network] = {
                "ready": ready,
                "first": first,
                "rss": server.peak_rss_mib(),
                "select": statistics.median(selects) if selects else math.nan,
                "points": len(points),
            }
            print(
                f"{network}: ready after {ready:.1f} s, first scheme answered at {first:.1f} s, "
                f"peak memory {out[network]['rss'] / 1024:.2f} GiB, select p50 "
                f"{out[network]['select'] * 1000:.1f} ms over {len(selects)}"
            )
        finally:
            server.stop()
    ratio = out["builtin:province"]["select"] / out["builtin:anyang"]["select"]
    print(f"select p50, province / anyang: {ratio:.2f}")


# ----------------------------------------------------------------------------- audit


def audit(url: str, network: str) -> None:
    """The ledger against the network: nothing below zero that was not before, and the
    totals table equal to the ledger added up from zero."""
    from sqlalchemy import create_engine, text

    from capacity import rule_capacity
    from grid_models import load_model

    engine = create_engine(url)
    with engine.connect() as conn:
        per_point = dict(
            conn.execute(
                text(
                    "SELECT connection_point_id, SUM(kva) FROM capacity_ledger "
                    "GROUP BY connection_point_id"
                )
            ).all()
        )
        totals = {
            str(e): float(v)
            for e, v in conn.execute(text("SELECT element_id, reserved_kva FROM capacity_totals"))
        }
    engine.dispose()
    model = load_model(network)
    base = rule_capacity(model)
    replay: dict[str, float] = defaultdict(float)
    for cp, kva in per_point.items():
        for e in base.point_paths.get(cp, ()):
            replay[e] += float(kva)
        replay[cp] += float(kva)
    mismatch = sum(1 for k, v in totals.items() if abs(replay.get(k, 0.0) - float(v)) > 1e-6)
    worse = [
        eid
        for eid, e in base.elements.items()
        if e.kind != "connection_point"
        and replay.get(eid, 0.0) > 1e-9
        and e.c1_kva - replay[eid] < min(0.0, e.c1_kva) - 1e-6
    ]
    held = sum(1 for v in per_point.values() if float(v) > 1e-9)
    print(
        f"  audit: {held} points holding reservations; elements pushed below zero: "
        f"{len(worse)}; totals differing from the ledger added up from zero: {mismatch}"
    )


# ----------------------------------------------------------------------------- worktrees


def _worktree(rev: str, tmp: Path) -> Path:
    tree = tmp / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True
    )
    return tree


def _drop_worktree(tree: Path) -> None:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["single", "closed", "open", "province"])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--network", default="builtin:anyang")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rates", default="20,30,40,50,60")
    parser.add_argument("--baseline", default=None, help="commit to compare with (closed loop)")
    parser.add_argument("-n", type=int, default=100, help="requests of each kind (single)")
    args = parser.parse_args()
    {"single": single, "closed": closed, "open": open_loop, "province": province}[args.mode](args)


if __name__ == "__main__":
    main()
