"""Hostile clients against `gridcap serve` while well-behaved ones use it (issue 12).

    python bench/bench_hostile.py [--clients 50] [--seconds 20] [--attackers 20]

Two runs on one server (builtin:anyang, SQLite): 50 well-behaved clients in a closed loop
(nearby capacity : preview = 1 : 1) alone, then the same with attackers beside them —
slow heads (a header line every 2 s), partial bodies (declares 1000 bytes, sends 10) and
oversized uploads (declares 20 MB, streams it). It prints how long each attacker's
socket stayed open against the configured deadlines (rules ``service.http``), and the
well-behaved p99 with attackers over the p99 without them (target ≤ 2). Then the rows of
the issue that once ran for minutes, with their answer and server time.

Per-client rate limits are off here (every simulated client sends from one address);
tests/api/test_hostile.py covers them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import select
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import Server, body, database_url, pct, request, sites  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grid_models import load_rules  # noqa: E402


def well_behaved(port: int, points: list, seconds: float, seed: int, out: list[float]) -> None:
    rnd = random.Random(seed)
    stop = time.time() + seconds
    while time.time() < stop:
        p = rnd.choice(points)
        if rnd.random() < 0.5:
            status, _, took = request(
                port,
                "GET",
                f"/api/v1/capacity/nearby?lon={p['lon_deg']}&lat={p['lat_deg']}&radius_m=800",
            )
        else:
            status, _, took = request(port, "POST", "/api/v1/schemes/preview", body(rnd, points))
        if status < 500:
            out.append(took)


def open_for(port: int, first: bytes, more: bytes | None, every_s: float, limit_s: float) -> float:
    """Seconds until the server closes a socket that sends ``first`` then ``more`` every
    ``every_s`` (never completing), or ``limit_s`` if it never does."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(first)
        while time.monotonic() - t0 < limit_s:
            readable, _, _ = select.select([s], [], [], every_s)
            if readable:
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
                return time.monotonic() - t0
            if more is not None:
                try:
                    s.sendall(more)
                except OSError:
                    return time.monotonic() - t0
    return limit_s


def attacker(kind: str, port: int, stop: float, out: list[tuple[str, float]]) -> None:
    while time.time() < stop:
        if kind == "slow head":
            took = open_for(port, b"GET /health HTTP/1.1\r\nHost: x\r\n", b"X-A: 1\r\n", 2.0, 40)
        elif kind == "partial body":
            head = (
                b"POST /api/v1/schemes/preview HTTP/1.1\r\nHost: x\r\n"
                b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"custom"'
            )
            took = open_for(port, head, None, 0.5, 40)
        else:
            head = (
                b"POST /api/v1/applications HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n"
            )
            took = open_for(port, head, b" " * 65536, 0.0, 40)
        out.append((kind, took))
        time.sleep(0.2)  # and again


def load(port: int, points: list, clients: int, seconds: float, attackers: int) -> tuple:
    lat: list[float] = []
    cut: list[tuple[str, float]] = []
    stop = time.time() + seconds
    threads = [
        threading.Thread(target=well_behaved, args=(port, points, seconds, k, lat))
        for k in range(clients)
    ]
    kinds = ("slow head", "partial body", "oversized")
    threads += [
        threading.Thread(target=attacker, args=(kinds[k % 3], port, stop, cut))
        for k in range(attackers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, cut


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--attackers", type=int, default=21)
    args = parser.parse_args()
    http = load_rules().get("service.http")
    tmp = Path(tempfile.mkdtemp(prefix="gridcap-hostile-"))
    url = database_url("sqlite", tmp)
    server = Server("builtin:anyang", url, 1, tmp)
    try:
        server.wait_ready()
        port = server.port
        points = sites(port)
        for _ in range(3):
            request(port, "POST", "/api/v1/schemes/preview", body(random.Random(0), points))
        print(
            f"hostile bench on builtin:anyang, SQLite, {args.clients} well-behaved clients, "
            f"{args.seconds:.0f} s per run; deadlines: head {http['header_seconds']} s, "
            f"body {http['body_seconds']} s, max body {http['max_body_bytes']} bytes"
        )
        alone, _ = load(port, points, args.clients, args.seconds, 0)
        beside, cut = load(port, points, args.clients, args.seconds, args.attackers)
        p_alone, p_beside = pct(alone, 0.99), pct(beside, 0.99)
        print(
            f"  well-behaved alone: {len(alone)} answers, p50 {statistics.median(alone) * 1000:.0f}"
            f" ms, p99 {p_alone * 1000:.0f} ms"
        )
        print(
            f"  with {args.attackers} attackers: {len(beside)} answers, p50 "
            f"{statistics.median(beside) * 1000:.0f} ms, p99 {p_beside * 1000:.0f} ms; "
            f"p99 ratio {p_beside / p_alone:.2f} (target ≤ 2)"
        )
        limits = {
            "slow head": float(http["header_seconds"]),
            "partial body": float(http["body_seconds"]),
            "oversized": 1.0,
        }
        for kind, limit in limits.items():
            times = [t for k, t in cut if k == kind]
            if times:
                print(
                    f"  {kind}: {len(times)} sockets, open at most {max(times):.1f} s "
                    f"(median {statistics.median(times):.1f} s; deadline {limit:.0f} s)"
                )
        rows(port)
    finally:
        server.stop()


def rows(port: int) -> None:
    """The rows of issue 12 that once ran for minutes: answer and time."""
    rnd = random.Random(7)
    points = sites(port)
    far = {**body(rnd, points), "application_date": "9999-12-29"}
    checks = [
        ("row 1/3: apply dated 9999-12-29", "POST", "/api/v1/applications", far),
        (
            "row 3: preview dated 9999-12-31",
            "POST",
            "/api/v1/schemes/preview",
            {**far, "application_date": "9999-12-31"},
        ),
        (
            "row 2: apply dated 0001-01-01",
            "POST",
            "/api/v1/applications",
            {**far, "application_date": "0001-01-01"},
        ),
        (
            "row 9: capacity_kva true",
            "POST",
            "/api/v1/schemes/preview",
            {**body(rnd, points), "capacity_kva": True},
        ),
    ]
    for name, method, path, payload in checks:
        status, _, took = request(port, method, path, payload)
        print(f"  {name}: {status} in {took * 1000:.0f} ms")
    today = dt.date.today().isoformat()
    status, _, took = request(
        port, "POST", "/api/v1/applications", {**body(rnd, points), "application_date": today}
    )
    print(f"  a well-formed apply dated today: {status} in {took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
