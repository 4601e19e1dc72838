"""Bad input: schemathesis against the running service's /openapi.json; no 5xx allowed.

    python bench/bench_fuzz.py [--examples 120]

Starts `gridcap serve` on 127.0.0.1 with a throwaway SQLite database, runs schemathesis
(positive and negative cases, every operation, ≥ 1 000 cases in all) with the
``not_a_server_error`` check, and prints schemathesis's own summary.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=120)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridcap-fuzz-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [
            str(bin_dir / "gridcap"),
            "serve",
            "--database",
            f"sqlite:///{tmp / 'f.sqlite3'}",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),  # noqa: SIM115
        env={
            **os.environ,
            "PYTHONWARNINGS": "ignore",
            "GRIDCAP_PLANNER_API_KEY": "k",
            "GRIDCAP_RATE_LIMITS": "off",
        },
    )
    try:
        for _ in range(480):  # until the capacity is computed (/health says ok)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if json.loads(r.read()).get("status") == "ok":
                        break
            except OSError:
                pass
            time.sleep(0.5)
        done = subprocess.run(
            [
                str(bin_dir / "schemathesis"),
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                "not_a_server_error",
                "-n",
                str(args.examples),
                "--workers",
                "2",
                "--generation-deterministic",
                "--report",
                "junit",
                "--report-dir",
                str(tmp / "report"),
            ],
            capture_output=True,
            text=True,
            timeout=3000,
        )
        tail = [line for line in done.stdout.splitlines() if line.strip()][-25:]
        print("\n".join(tail))
        print(f"schemathesis exit code {done.returncode} (0: no failures)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
