"""AC capacity per bus by voltage level (issue 14, point 4): MV, LV (低压) or both, from the
Python API, the command line and the paged HTTP route."""

from __future__ import annotations

import json
from functools import cache

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api._app import create_app
from api.cli import app as cli
from capacity import (
    CriteriaError,
    HostingCriteria,
    capacity_rows,
    fast_hosting,
    hosting_buses,
    reference_hosting,
)
from grid_models import GridModel, load_model, load_rules

# 95 MV buses, 14 LV buses behind one 10/0.4 kV transformer, 2 HV buses: small enough to
# check LV figures against the pandapower bisection.
SMALL = "simbench:1-MVLV-rural-1.108-0-sw"
CRIT = HostingCriteria(generation=False)
CONTRACT_KEYS = {"bus", "p_mw_max", "limiting"}


@cache
def small() -> GridModel:
    return load_model(SMALL)


@cache
def anyang() -> GridModel:
    return load_model("builtin:anyang")


def expected_buses(model: GridModel) -> dict[str, set[int]]:
    """In-service buses by the rules file's voltage bands, worked out from ``vn_kv`` alone."""
    rules = load_rules()
    lv_max = float(rules.get("network_defaults.voltage_levels.lv_max_kv"))
    hv_min = float(rules.get("network_defaults.voltage_levels.hv_min_kv"))
    bus = model.net.bus[model.net.bus["in_service"]]
    lv = {int(b) for b in bus.index[bus["vn_kv"] <= lv_max]}
    mv = {int(b) for b in bus.index[(bus["vn_kv"] > lv_max) & (bus["vn_kv"] < hv_min)]}
    return {"mv": mv, "lv": lv, "all": mv | lv}


def test_voltage_chooses_mv_lv_or_both():
    model = small()
    want = expected_buses(model)
    assert len(want["mv"]) == 95 and len(want["lv"]) == 14
    rows = {v: capacity_rows(model, "bus", "powerflow", CRIT, voltage=v) for v in want}
    for v, expected in want.items():
        buses = [r["bus"] for r in rows[v]]
        assert len(buses) == len(set(buses)) and set(buses) == expected, v
    # MV rows keep the contract's three keys; LV and both say each bus's voltage
    assert all(set(r) == CONTRACT_KEYS for r in rows["mv"])
    vn_kv = model.net.bus["vn_kv"]
    for v in ("lv", "all"):
        assert all(set(r) == CONTRACT_KEYS | {"vn_kv"} for r in rows[v])
        assert all(r["vn_kv"] == float(vn_kv.at[r["bus"]]) for r in rows[v])
    assert {r["vn_kv"] for r in rows["lv"]} == {0.4}
    # each bus's search is its own: "all" is the MV and the LV answers together
    both = {r["bus"]: (r["p_mw_max"], r["limiting"]) for r in rows["all"]}
    apart = {r["bus"]: (r["p_mw_max"], r["limiting"]) for r in rows["mv"] + rows["lv"]}
    assert both == apart
    assert hosting_buses(model.net, "lv") == [r["bus"] for r in rows["lv"]]


def test_voltage_is_checked():
    model = small()
    with pytest.raises(CriteriaError, match="voltage 'hv'"):
        capacity_rows(model, "bus", "powerflow", CRIT, voltage="hv")
    with pytest.raises(CriteriaError, match="--voltage chooses buses"):
        capacity_rows(model, "feeder", "rules", CRIT, voltage="lv")
    with pytest.raises(CriteriaError, match="voltage 'xv'"):
        fast_hosting(model.net, CRIT, voltage="xv")  # type: ignore[arg-type]


def test_lv_figures_agree_with_pandapower_bisection():
    net = small().net
    fast = {c.bus: c for c in fast_hosting(net, CRIT, voltage="lv")}
    sample = sorted(fast)[::3]
    # solved by the ladder, not handed to the reference (a meshed part would be)
    assert all(fast[b].method == "fast" for b in sample)
    refs = reference_hosting(net, CRIT, sample, warm_start=True)
    # an LV bus is bound by a real limit well under the 30 MW search cap
    assert all(0 < r.p_mw_max < 1.0 and r.limiting != "none" for r in refs)
    for ref in refs:
        tol = max(0.01 * ref.p_mw_max, 0.010)  # as tests/capacity/test_hosting.py
        assert abs(fast[ref.bus].p_mw_max - ref.p_mw_max) <= tol, (ref, fast[ref.bus])


def test_cli_voltage_and_verbose():
    runner = CliRunner()
    base = ["capacity", "--network", SMALL, "--level", "bus", "--method", "powerflow"]
    result = runner.invoke(cli, [*base, "--voltage", "lv", "--format", "json", "--verbose"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["bus"] for r in rows} == expected_buses(small())["lv"]
    assert all(r["vn_kv"] == 0.4 for r in rows)
    for phase in ("load network", "build model", "compute", "write", "total"):
        assert phase in result.stderr, phase
    assert "14 rows" in result.stderr
    result = runner.invoke(cli, ["capacity", "--network", SMALL, "--voltage", "lv"])
    assert result.exit_code == 2 and "--voltage chooses buses" in result.output


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gridcap.sqlite3'}"
    with TestClient(create_app(anyang(), database_url=url)) as c:
        yield c


def test_api_pages_are_disjoint_and_add_up(client):
    from capacity import private_buses

    # the API publishes the public grid: customers' own LV networks are left out
    want = {k: v - private_buses(anyang()) for k, v in expected_buses(anyang()).items()}
    seen: list[int] = []
    offset = 0
    pages = 0
    while True:
        r = client.get(
            "/api/v1/capacity",
            params={"level": "bus", "voltage": "lv", "limit": 1000, "offset": offset},
        )
        assert r.status_code == 200, r.text
        assert int(r.headers["X-Total-Count"]) == len(want["lv"])
        page = r.json()
        assert page and len(page) <= 1000
        assert all(row["vn_kv"] == 0.4 for row in page)
        seen += [row["bus"] for row in page]
        pages += 1
        if 'rel="next"' not in r.headers.get("Link", ""):
            break
        offset += len(page)
    assert pages == -(-len(want["lv"]) // 1000)  # 2537 public LV buses: 3 pages
    assert len(seen) == len(set(seen)) and set(seen) == want["lv"]
    # a page is searched on its own buses: the same figures as the whole list's
    whole = capacity_rows(anyang(), "bus", "powerflow", HostingCriteria.from_rules(), voltage="lv")
    whole = [r for r in whole if r["bus"] not in private_buses(anyang())]
    last = client.get(
        "/api/v1/capacity", params={"level": "bus", "voltage": "lv", "offset": 2000}
    ).json()
    assert last == whole[2000:]


def test_api_default_stays_the_whole_mv_list(client):
    from capacity import private_buses

    r = client.get("/api/v1/capacity", params={"level": "bus"})
    rows = r.json()
    want = {k: v - private_buses(anyang()) for k, v in expected_buses(anyang()).items()}
    assert len(rows) == len(want["mv"]) > 1000  # not cut to a page
    assert "Link" not in r.headers and int(r.headers["X-Total-Count"]) == len(rows)
    assert all(set(row) == CONTRACT_KEYS for row in rows)
    r = client.get("/api/v1/capacity", params={"level": "bus", "voltage": "all", "limit": 5})
    assert len(r.json()) == 5 and int(r.headers["X-Total-Count"]) == len(want["all"])
    assert 'rel="next"' in r.headers["Link"] and 'rel="prev"' not in r.headers["Link"]


@pytest.mark.parametrize(
    "params",
    [
        {"level": "feeder", "voltage": "lv"},
        {"level": "bus", "voltage": "hv"},
        {"level": "bus", "voltage": "lv", "limit": 10_001},
        {"level": "bus", "voltage": "lv", "offset": -1},
    ],
)
def test_api_bad_voltage_or_paging_is_422(client, params):
    assert client.get("/api/v1/capacity", params=params).status_code == 422
