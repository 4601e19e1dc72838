"""The connection-case library: network decisions of domain §6 worked by hand.

Each ``tests/data/connection/<case>.json`` names a small network of
:mod:`tests.scheme_generator._case_networks`, a site in that network's km frame, an
application and the scheme fields expected, with the arithmetic that gives them in
``worked``. Expected values are literals, or matchers: ``{"approx": x, "abs": t}``,
``{"min": x}``, ``{"max": x}``, ``{"in": [...]}``, ``{"contains": "text"}``,
``{"len": n}``, ``{"all": matcher}`` over a list.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scheme_generator import (
    InvalidApplicationError,
    SchemeContext,
    generate_scheme,
    parse_application,
)
from tests.scheme_generator._case_networks import NETWORKS, lonlat

CASES = sorted((Path(__file__).resolve().parents[1] / "data" / "connection").glob("*.json"))


@cache
def context(network: str) -> SchemeContext:
    return SchemeContext.build(NETWORKS[network]())


def application(case: dict[str, Any]) -> dict[str, Any]:
    lon, lat = lonlat(*case["site_km"])
    return case["application"] | {"location": {"lon": lon, "lat": lat}}


def pick(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list):
            data = data[int(part)]
        elif isinstance(data, dict):
            if part not in data:
                raise AssertionError(f"no field {part!r} on the way to {path!r}")
            data = data[part]
        else:
            raise AssertionError(f"{path!r}: {part!r} is below a {type(data).__name__}")
    return data


def check(got: Any, want: Any, where: str) -> None:
    if isinstance(want, dict) and want.keys() & {"approx", "min", "max", "in", "contains"}:
        if "approx" in want:
            assert got == pytest.approx(want["approx"], abs=want.get("abs", 0.5)), where
        if "min" in want:
            assert got >= want["min"], f"{where}: {got} < {want['min']}"
        if "max" in want:
            assert got <= want["max"], f"{where}: {got} > {want['max']}"
        if "in" in want:
            assert got in want["in"], f"{where}: {got!r} not in {want['in']}"
        if "contains" in want:
            assert want["contains"] in json.dumps(got, ensure_ascii=False), where
        return
    if isinstance(want, dict) and "len" in want:
        assert len(got) == want["len"], f"{where}: {len(got)} items"
        return
    if isinstance(want, dict) and "all" in want:
        for k, item in enumerate(got):
            check(item, want["all"], f"{where}[{k}]")
        return
    assert got == want, f"{where}: {got!r} != {want!r}"


def test_library_holds_the_cases_the_issue_asks_for():
    names = {p.stem for p in CASES}
    for required in (
        "multi_mva_bay_in_reach",
        "first_level_pair_each_carries_the_load",
        "beyond_one_circuit",
        "upgrade_closes_the_gap",
        "project_longer_than_the_time_limit",
        "route_follows_corridors",
        "no_corridor_path",
    ):
        assert required in names


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = json.loads(path.read_text("utf-8"))
    assert case["rule"] and case["worked"], "every case cites its rule and shows its arithmetic"
    ctx = context(case["network"])
    app = parse_application(application(case))
    if "error_field" in case:
        with pytest.raises(InvalidApplicationError) as err:
            generate_scheme(ctx, app)
        assert [p.field for p in err.value.problems] == [case["error_field"]]
        return
    scheme = generate_scheme(ctx, app)
    for field, want in case["expected"].items():
        check(pick(scheme, field), want, f"{path.stem}: {field} ({case['rule']})")
