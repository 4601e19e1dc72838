"""The ``gridcap network`` commands, run as a user would (typer's runner, real networks)."""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from api.cli import app
from tests.grid_models._nets import NetBuilder

runner = CliRunner()


def test_network_info_json_has_the_contract_fields():
    result = runner.invoke(app, ["network", "info", "pandapower:mv_oberrhein", "--format", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    for key in (
        "substations",
        "main_transformers",
        "bus_sections",
        "feeders",
        "segments",
        "tie_switches",
        "distribution_transformers",
        "connection_points",
        "buses",
    ):
        assert isinstance(info[key], int), key
    assert info["feeders"] == 4 and info["tie_switches"] == 5
    assert sum(info["wiring_modes"].values()) == info["feeders"]
    assert isinstance(info["problems"], list)


def test_network_info_table_lists_modes_and_problems():
    result = runner.invoke(app, ["network", "info", "simbench:1-MV-urban--0-sw"])
    assert result.exit_code == 0, result.output
    assert "feeders by wiring mode:" in result.stdout
    assert "two_ties" in result.stdout and "validation problems:" in result.stdout


def test_network_export_geojson(tmp_path):
    out = tmp_path / "net.geojson"
    result = runner.invoke(
        app,
        ["network", "export", "pandapower:mv_oberrhein", "--format", "geojson", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    fc = json.loads(out.read_text("utf-8"))
    assert fc["type"] == "FeatureCollection"
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert {"substation", "feeder", "line", "connection_point", "tie_switch"} <= kinds
    assert all(f["properties"]["id"] for f in fc["features"])


def test_unknown_spec_is_a_clear_error_not_a_traceback():
    result = runner.invoke(app, ["network", "info", "pandapower:no_such_network"])
    assert result.exit_code == 2
    assert "no function 'no_such_network'" in result.output
    assert "Traceback" not in result.output


def test_broken_json_file_reports_problems(tmp_path):
    nb = NetBuilder()
    (s1,) = nb.substation(1)
    nb.feeder(s1, 3, name="A")
    nb.net.line.loc[0, "length_km"] = 0.0
    nb.net.line.loc[1, "to_bus"] = 4242
    path = tmp_path / "broken.json"
    pp.to_json(nb.net, str(path))
    result = runner.invoke(app, ["network", "info", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    codes = {p["code"] for p in json.loads(result.stdout)["problems"]}
    assert {"zero_length", "unknown_bus"} <= codes
    (tmp_path / "garbage.json").write_text("{not json", "utf-8")
    result = runner.invoke(app, ["network", "info", str(tmp_path / "garbage.json")])
    assert result.exit_code == 2 and "not a pandapower JSON network" in result.output


def test_unknown_simbench_code_is_a_clear_error():
    result = runner.invoke(app, ["network", "info", "simbench:1-MV-nowhere--0-sw"])
    assert result.exit_code == 2 and "no SimBench grid with code" in result.output


def test_capacity_powerflow_json_matches_the_contract():
    result = runner.invoke(
        app,
        [
            "capacity",
            "--network",
            "simbench:1-MV-urban--0-sw",
            "--level",
            "bus",
            "--method",
            "powerflow",
            "--format",
            "json",
            "--no-generation",
            "--vm-min",
            "0.93",
            "--vm-max",
            "1.07",
            "--power-factor",
            "0.95",
            "--line-loading-max",
            "100",
            "--trafo-loading-max",
            "100",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 142  # every MV bus
    assert all(set(r) == {"bus", "p_mw_max", "limiting"} for r in rows)
    assert all(isinstance(r["bus"], int) and r["p_mw_max"] >= 0 for r in rows)
    assert {r["limiting"].split(":")[0] for r in rows} <= {"line", "trafo", "vm", "none"}


def test_capacity_rules_levels_and_formats(tmp_path):
    for level in ("main_transformer", "feeder", "segment", "transformer", "bus"):
        result = runner.invoke(
            app,
            [
                "capacity",
                "--network",
                "builtin:anyang",
                "--level",
                level,
                "--method",
                "rules",
                "--format",
                "json",
            ],
        )
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert rows and {"id", "c1_kva", "c2_kva", "light"} <= set(rows[0])
    out = tmp_path / "cap.geojson"
    result = runner.invoke(
        app,
        [
            "capacity",
            "--network",
            "builtin:anyang",
            "--level",
            "feeder",
            "--format",
            "geojson",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text("utf-8"))["features"][0]["properties"]["kind"]
    result = runner.invoke(
        app, ["capacity", "--network", "builtin:anyang", "--level", "feeder", "--format", "csv"]
    )
    assert result.stdout.splitlines()[0].startswith("id,kind,name")
    result = runner.invoke(
        app,
        ["capacity", "--network", "builtin:anyang", "--level", "feeder", "--summary", "substation"],
    )
    assert "sub:S0001" in result.stdout


def test_capacity_bad_criteria_is_a_clear_error():
    result = runner.invoke(
        app,
        ["capacity", "--network", "pandapower:mv_oberrhein", "--vm-min", "1.2", "--vm-max", "1.1"],
    )
    assert result.exit_code == 2 and "vm_min_pu" in result.output
    result = runner.invoke(
        app,
        [
            "capacity",
            "--network",
            "pandapower:mv_oberrhein",
            "--level",
            "feeder",
            "--method",
            "powerflow",
        ],
    )
    assert result.exit_code == 2 and "--level bus" in result.output


def test_scheme_command_json_and_html(tmp_path):
    result = runner.invoke(app, ["scheme", "examples/application.json"])
    assert result.exit_code == 0, result.output
    scheme = json.loads(result.stdout)
    for key in (
        "classification",
        "supply_voltage_kv",
        "phases",
        "dedicated_line",
        "steps",
        "inspections",
        "time_limit_workdays",
        "due_date",
        "investment_boundary",
        "materials",
        "archive",
        "fees",
        "outage_plan",
        "constrained",
        "options",
        "recommended_option_id",
        "transition_plan",
    ):
        assert key in scheme, key
    out = tmp_path / "sheet.html"
    result = runner.invoke(
        app, ["scheme", "examples/application.json", "--format", "html", "--out", str(out)]
    )
    title = "供电方案答复单" if scheme["document"] == "reply_sheet" else "供电方案告知书"
    assert result.exit_code == 0 and title in out.read_text("utf-8")
    assert "内部测算" not in out.read_text("utf-8")
    result = runner.invoke(
        app,
        ["scheme", "examples/application.json", "--format", "html", "--out", str(out)]
        + ["--audience", "planner"],
    )
    assert result.exit_code == 0 and "内部测算" in out.read_text("utf-8")
    result = runner.invoke(
        app, ["scheme", "examples/application.json", "--format", "html", "--option", "ZZ"]
    )
    assert result.exit_code == 2 and "--option" in result.output


def test_scheme_command_names_bad_fields(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "customer_name": "x",
                "customer_type": "resident",
                "business": "new",
                "capacity_kva": -1,
                "location": {"lon": 114.3, "lat": 36.1},
                "application_date": "2026-03-02",
            }
        ),
        "utf-8",
    )
    result = runner.invoke(app, ["scheme", str(bad)])
    assert result.exit_code == 2 and "capacity_kva" in result.output
    assert "Traceback" not in result.output


def test_what_if_command_writes_its_results(tmp_path):
    result = runner.invoke(
        app, ["what-if", "examples/what_if_core_growth.yaml", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "newly constrained" in result.stdout
    assert (tmp_path / "capacity_before_after.csv").read_text("utf-8").startswith("id,kind")
    data = json.loads((tmp_path / "what_if.json").read_text("utf-8"))
    assert data["summary"]["changes"] and data["elements"]
    html = (tmp_path / "what_if.html").read_text("utf-8")
    assert "规划推演" in html and "<svg" in html and "<script" not in html
    assert (tmp_path / "upgrades.csv").exists()
    for png in ("capacity_map.png", "feeder_loading.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_what_if_reports_changed_schemes_and_the_reserve_pool(tmp_path):
    from fastapi.testclient import TestClient

    from api._app import create_app
    from grid_models import load_model

    db = f"sqlite:///{tmp_path / 'w.db'}"
    model = load_model("builtin:anyang")
    app_body = json.loads(Path("examples/application.json").read_text("utf-8"))
    with TestClient(create_app(model, database_url=db)) as client:
        assert client.post("/api/v1/applications", json=app_body).status_code == 201
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: pool\n"
        "load_growth: [{scope: all, percent: 30}]\n"
        "reserve_pool:\n"
        + "".join(
            f"  - {{customer_name: 储备{i}, customer_type: non_resident, "
            f"business: new, ownership: chain_branch, capacity_kva: 400, "
            f"location: {{lon: {114.34 + 0.002 * i}, lat: 36.10}}, "
            f"application_date: '2026-12-01'}}\n"
            for i in range(3)
        ),
        "utf-8",
    )
    result = runner.invoke(
        app, ["what-if", str(scenario), "--database", db, "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "stored applications whose scheme changes:" in result.stdout
    assert "reserve pool of 3" in result.stdout
    data = json.loads((tmp_path / "out" / "what_if.json").read_text("utf-8"))
    assert len(data["applications"]["schemes"]) == 1
    assert (
        data["applications"]["reserve_pool"]["cp_sat"]["served"]
        >= (data["applications"]["reserve_pool"]["greedy"]["served"])
    )
