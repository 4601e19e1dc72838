"""Load on `gridcap serve`: many concurrent clients applying and choosing, then an audit.

    python bench/bench_service.py [--database sqlite|postgresql] [--clients 50]
                                  [--seconds 60] [--workers 4]

Each client loops: preview a scheme, apply, choose option A (which reserves capacity).
Sites are near random connection points of builtin:anyang. Prints throughput, p50/p99
latency per endpoint and every status code; afterwards the audit loads every active
reservation from the database and checks that no element gives more than its capacity
(C2 ≥ 0 wherever reservations flow). Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, dict | list | None, float]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridcap-load-"))
    url = database_url(args.database, tmp)
    port = free_port()
    exe = Path(sys.executable).parent / "gridcap"
    server = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--network",
            "builtin:anyang",
            "--database",
            url,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),  # noqa: SIM115
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        run(port, args, url)
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(port: int, args: argparse.Namespace, url: str) -> None:
    deadline = time.time() + 120
    while True:
        try:
            if request(port, "GET", "/health")[0] == 200:
                break
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.5)
    _, rows, _ = request(port, "GET", "/api/v1/capacity?level=connection_point")
    assert isinstance(rows, list)
    points = [r for r in rows if r["kind"] in ("ring_main_unit", "pole") and r["lon_deg"]]
    for _ in range(args.workers * 2):  # every worker builds its capacity context once
        request(port, "POST", "/api/v1/schemes/preview", body(random.Random(0), points))
    stats: dict[str, list[float]] = defaultdict(list)
    codes: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()
    stop = time.time() + args.seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.time() < stop:
            app = body(rng, points)
            for name, method, path, payload in (
                ("preview", "POST", "/api/v1/schemes/preview", app),
                ("apply", "POST", "/api/v1/applications", app),
            ):
                status, data, took = request(port, method, path, payload)
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
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    total = sum(len(v) for v in stats.values())
    print(
        f"{args.database}: {args.clients} clients, {args.workers} workers, {elapsed:.0f} s: "
        f"{total} requests, {total / elapsed:.1f} req/s"
    )
    for name in ("preview", "apply", "select"):
        v = sorted(stats[name])
        if v:
            p99 = v[min(len(v) - 1, math.ceil(0.99 * len(v)) - 1)]
            print(
                f"  {name:<8} n={len(v):>5}  p50 {statistics.median(v) * 1000:7.0f} ms  "
                f"p99 {p99 * 1000:7.0f} ms"
            )
    print("  status codes: " + ", ".join(f"{n} {c}: {k}" for (n, c), k in sorted(codes.items())))
    fives = sum(k for (_, c), k in codes.items() if c >= 500)
    print(f"  5xx: {fives}")
    audit(url)


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
        "application_date": "2026-11-30",
    }


def audit(url: str) -> None:
    from sqlalchemy import create_engine, text

    from capacity import Reservation, rule_capacity
    from grid_models import load_model

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT connection_point_id, kva FROM reservations WHERE active = 1")
        ).all()
    engine.dispose()
    model = load_model("builtin:anyang")
    reservations = [Reservation(r[0], float(r[1])) for r in rows]
    cap = rule_capacity(model, reservations)
    carrying = [
        e for e in cap.elements.values() if e.inflight_kva > 0 and e.kind != "connection_point"
    ]
    worst = min((e.c2_kva for e in carrying), default=0.0)
    bad = [e.id for e in carrying if e.c2_kva < -1e-6]
    print(
        f"  audit: {len(reservations)} reservations, {len(carrying)} elements carrying "
        f"them, lowest C2 {worst:.1f} kVA, elements over capacity: {len(bad)}"
    )


if __name__ == "__main__":
    main()
