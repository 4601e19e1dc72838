"""The ``gridcap`` command line (planners' what-if scripts and operators)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from tqdm import tqdm

from capacity import (
    CapacityError,
    HostingCriteria,
    Reservation,
    capacity_rows,
    rows_to_csv,
    rows_to_geojson,
    rows_to_table,
)
from grid_models import (
    DEFAULT_NETWORK,
    GridModel,
    GridModelError,
    load_model,
    load_network,
    model_from_net,
    to_geojson,
)
from scheme_generator import SchemeError

app = typer.Typer(
    help="gridcap: openable capacity and supply schemes for a 10 kV network.",
    no_args_is_help=True,
    add_completion=False,
)
network_app = typer.Typer(help="Inspect and export networks.", no_args_is_help=True)
app.add_typer(network_app, name="network")


class InfoFormat(StrEnum):
    table = "table"
    json = "json"


class ExportFormat(StrEnum):
    geojson = "geojson"


def _load(spec: str) -> GridModel:
    try:
        return load_model(spec)
    except GridModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        if not text.endswith("\n"):
            sys.stdout.write("\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


def _table(summary: dict[str, Any], max_rows: int = 60) -> str:
    rows = [
        ("network", f"{summary['id']} (version {summary['version']})"),
        ("substations", summary["substations"]),
        ("main transformers", summary["main_transformers"]),
        ("10 kV bus sections", summary["bus_sections"]),
        ("feeders", summary["feeders"]),
        ("segments", summary["segments"]),
        (
            "tie switches",
            f"{summary['tie_switches']} "
            f"({summary['tie_switches_between_substations']} between substations)",
        ),
        ("bus couplers", summary["bus_couplers"]),
        (
            "distribution transformers",
            f"{summary['distribution_transformers']} "
            f"({summary['distribution_transformers_public']} public)",
        ),
        ("connection points", summary["connection_points"]),
        ("buses", f"{summary['buses']} ({summary['mv_buses']} MV, {summary['lv_buses']} LV)"),
        ("lines", summary["lines"]),
        ("loads", summary["loads"]),
    ]
    width = max(len(k) for k, _ in rows)
    out = [f"{k:<{width}}  {v}" for k, v in rows]
    out.append("")
    out.append("feeders by wiring mode:")
    out += [f"  {mode:<12} {n}" for mode, n in summary["wiring_modes"].items()]
    out.append("connection points by kind:")
    out += [f"  {kind:<17} {n}" for kind, n in summary["connection_points_by_kind"].items()]
    if summary["areas"]:
        out.append("areas: " + ", ".join(f"{k} {n}" for k, n in summary["areas"].items()))
    feeders = summary.get("feeder_list", [])
    if feeders:
        out.append("")
        out.append(f"feeders ({len(feeders)}):")
        for f in feeders[:max_rows]:
            partners = ", ".join(f["tie_partner_ids"]) or "-"
            out.append(
                f"  {f['id']:<12} {f['name'][:24]:<24} {f['bus_section_id']:<10} "
                f"{f['wiring_mode']:<12} {f['conductor']:<8} ties to: {partners}"
            )
        if len(feeders) > max_rows:
            out.append(f"  … and {len(feeders) - max_rows} more (use --format json for all)")
        ties = summary.get("tie_switch_list", [])
        out.append(f"tie switches ({len(ties)}):")
        for t in ties[:max_rows]:
            where = f"switch {t['switch']}" if t["switch"] is not None else f"line {t['line']}"
            cross = "  between substations" if t["between_substations"] else ""
            out.append(f"  {t['id']:<12} {where:<14} {t['side_a']} — {t['side_b']}{cross}")
        if len(ties) > max_rows:
            out.append(f"  … and {len(ties) - max_rows} more (use --format json for all)")
    problems = summary["problems"]
    out.append("")
    out.append(f"validation problems: {len(problems)}")
    for p in problems[:50]:
        ids = p["ids"]
        shown = ", ".join(str(i) for i in ids[:8]) + (
            f", … ({len(ids)} in all)" if len(ids) > 8 else ""
        )
        out.append(f"  [{p['severity']}] {p['code']} {p['element']} [{shown}]: {p['message']}")
    if len(problems) > 50:
        out.append(f"  … and {len(problems) - 50} more (use --format json for all)")
    return "\n".join(out)


@network_app.command("info")
def network_info(
    spec: Annotated[str, typer.Argument(help="network spec, e.g. builtin:anyang")],
    fmt: Annotated[InfoFormat, typer.Option("--format", help="table or json")] = InfoFormat.table,
) -> None:
    """Counts, feeders by wiring mode, and every validation problem."""
    summary = _load(spec).summary(detail=True)
    if fmt is InfoFormat.json:
        _write(json.dumps(summary, ensure_ascii=False, indent=2), None)
    else:
        _write(_table(summary), None)


@network_app.command("export")
def network_export(
    spec: Annotated[str, typer.Argument(help="network spec, e.g. builtin:anyang")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="geojson")],
    out: Annotated[
        Path | None, typer.Option("--out", help="file to write (default stdout)")
    ] = None,
) -> None:
    """Export the network as a GeoJSON FeatureCollection (for maps)."""
    collection = to_geojson(_load(spec))
    _write(json.dumps(collection, ensure_ascii=False, allow_nan=False), out)


class CapacityLevel(StrEnum):
    main_transformer = "main_transformer"
    bus_section = "bus_section"
    feeder = "feeder"
    segment = "segment"
    transformer = "transformer"
    bus = "bus"
    connection_point = "connection_point"


class CapacityMethod(StrEnum):
    rules = "rules"
    powerflow = "powerflow"


class CapacityEngine(StrEnum):
    fast = "fast"
    bisection = "bisection"


class VoltageClass(StrEnum):
    mv = "mv"
    lv = "lv"
    all = "all"


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    geojson = "geojson"


class SummaryBy(StrEnum):
    substation = "substation"
    area = "area_class"


_TABLE_COLUMNS = {
    "connection_point": [
        "id",
        "name",
        "kind",
        "openable_kva",
        "openable_mw",
        "rules_kva",
        "ac_kva",
        "limited_by",
        "light",
        "bays_free",
    ],
    "summary": None,
}
_ELEMENT_COLUMNS = [
    "id",
    "name",
    "limit_kva",
    "peak_kva",
    "peak_at",
    "c1_kva",
    "inflight_kva",
    "c2_kva",
    "openable_kva",
    "limited_by",
    "light",
    "n1_secure",
]


_KIND_OF_LEVEL = {
    "main_transformer": "main_transformer",
    "bus_section": "bus_section",
    "feeder": "feeder",
    "segment": "segment",
    "transformer": "distribution_transformer",
    "bus": "connection_point",
    "connection_point": "connection_point",
}


def _distributed_rows(
    spec: str, model: GridModel, level: str, scheduler: str, reservations: list[Reservation]
) -> list[dict[str, Any]]:
    from capacity import distributed_rule_capacity

    elements = distributed_rule_capacity(
        spec, reservations, scheduler=None if scheduler == "local" else scheduler, model=model
    )
    kind = _KIND_OF_LEVEL[level]
    return [e.to_dict() for e in elements.values() if e.kind == kind]


_T = TypeVar("_T")


class _Phases:
    """Wall-clock time per phase of a command, told on stderr when ``verbose``."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.start = time.perf_counter()

    def run(self, name: str, step: Callable[[], _T]) -> _T:
        t0 = time.perf_counter()
        try:
            return step()
        finally:
            if self.verbose:
                typer.echo(f"{name:<14} {time.perf_counter() - t0:7.2f} s", err=True)

    def total(self, note: str = "") -> None:
        if self.verbose:
            took = time.perf_counter() - self.start
            typer.echo(f"{'total':<14} {took:7.2f} s{note}", err=True)


def _load_model_timed(spec: str, phases: _Phases) -> GridModel:
    """:func:`grid_models.load_model` in its two phases: read the network, derive the model."""
    try:
        net = phases.run("load network", lambda: load_network(spec))
        model_id = spec.split(":", 1)[1] if spec.startswith("builtin:") else None
        return phases.run("build model", lambda: model_from_net(net, model_id=model_id))
    except GridModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _reservations(path: Path | None) -> list[Reservation]:
    if path is None:
        return []
    try:
        raw = json.loads(path.read_text("utf-8"))
        return [
            Reservation(str(r["connection_point_id"]), float(r["kva"]), str(r.get("reference", "")))
            for r in raw
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        typer.echo(
            f"error: --reservations {path}: expected a JSON list of "
            f"{{connection_point_id, kva}} ({exc})",
            err=True,
        )
        raise typer.Exit(code=2) from exc


@app.command("capacity")
def capacity(
    network: Annotated[str, typer.Option(help="network spec")] = DEFAULT_NETWORK,
    level: Annotated[
        CapacityLevel | None,
        typer.Option(help="element level (default: bus for powerflow, feeder for rules)"),
    ] = None,
    method: Annotated[
        CapacityMethod | None,
        typer.Option(
            help="rules (rule-based C1/C2) or powerflow (AC hosting capacity); default: "
            "powerflow at --level bus, rules elsewhere"
        ),
    ] = None,
    fmt: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="file to write")] = None,
    line_loading_max: Annotated[
        float | None, typer.Option("--line-loading-max", help="line loading limit, %")
    ] = None,
    trafo_loading_max: Annotated[
        float | None, typer.Option("--trafo-loading-max", help="transformer loading limit, %")
    ] = None,
    vm_min: Annotated[float | None, typer.Option("--vm-min", help="MV voltage min, pu")] = None,
    vm_max: Annotated[float | None, typer.Option("--vm-max", help="MV voltage max, pu")] = None,
    power_factor: Annotated[
        float | None, typer.Option("--power-factor", help="added load's power factor (lagging)")
    ] = None,
    no_generation: Annotated[
        bool, typer.Option("--no-generation", help="take static generators out of service")
    ] = False,
    engine: Annotated[
        CapacityEngine,
        typer.Option(help="fast (ladder, default) or bisection (pandapower reference)"),
    ] = CapacityEngine.fast,
    summary: Annotated[
        SummaryBy | None,
        typer.Option(help="summarise by substation or area class instead of listing elements"),
    ] = None,
    reservations: Annotated[
        Path | None,
        typer.Option(help="JSON list of in-flight reservations {connection_point_id, kva}"),
    ] = None,
    time_series: Annotated[
        bool,
        typer.Option(
            "--time-series",
            help="AC capacity as the minimum over the load profiles' "
            "critical times (says when it binds)",
        ),
    ] = False,
    n1_transfer: Annotated[
        bool,
        typer.Option(
            "--n1-transfer",
            help="with --level feeder: can each feeder's whole load be carried "
            "through one of its ties if its bay is lost (AC power flow per tie, at the "
            "rule-based peak; transferable ⇔ margin ≥ 0)",
        ),
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(help="rule-based sweep on Dask: 'local' (a LocalCluster) or tcp://host:port"),
    ] = None,
    voltage: Annotated[
        VoltageClass,
        typer.Option(
            help="with --level bus --method powerflow: the MV buses, the LV buses (低压) or "
            "both; lv and all rows carry vn_kv"
        ),
    ] = VoltageClass.mv,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", help="time per phase (load, build, compute, write) on stderr"),
    ] = False,
) -> None:
    """Openable capacity per element (rule-based) or per bus (AC power flow)."""
    if level is None:
        chosen_level = (
            CapacityLevel.bus if method is CapacityMethod.powerflow else CapacityLevel.feeder
        )
    else:
        chosen_level = level
    chosen_method = method or (
        CapacityMethod.powerflow if chosen_level is CapacityLevel.bus else CapacityMethod.rules
    )
    phases = _Phases(verbose)
    model = _load_model_timed(network, phases)
    try:
        criteria = HostingCriteria.from_rules(
            line_loading_max_percent=line_loading_max,
            trafo_loading_max_percent=trafo_loading_max,
            vm_min_pu=vm_min,
            vm_max_pu=vm_max,
            power_factor=power_factor,
            generation=False if no_generation else None,
        )
        in_flight = _reservations(reservations)
        distributed = scheduler and chosen_method is CapacityMethod.rules
        if distributed and not (summary or n1_transfer) and voltage is VoltageClass.mv:
            rows = phases.run(
                "compute",
                lambda: _distributed_rows(
                    network, model, chosen_level.value, scheduler or "", in_flight
                ),
            )
        else:
            rows = phases.run(
                "compute",
                lambda: capacity_rows(
                    model,
                    chosen_level.value,
                    chosen_method.value,
                    criteria,
                    engine=engine.value,
                    reservations=in_flight,
                    summary=summary.value if summary else None,
                    time_series=time_series,
                    n1=n1_transfer,
                    voltage=voltage.value,
                ),
            )
    except (CapacityError, GridModelError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    phases.run(
        "write",
        lambda: _write(
            _formatted(
                rows,
                fmt,
                model,
                chosen_level,
                chosen_method,
                summary=summary,
                n1_transfer=n1_transfer,
                time_series=time_series,
                voltage=voltage,
            ),
            out,
        ),
    )
    phases.total(f" ({len(rows)} rows)")


def _formatted(
    rows: list[dict[str, Any]],
    fmt: TableFormat,
    model: GridModel,
    level: CapacityLevel,
    method: CapacityMethod,
    *,
    summary: SummaryBy | None,
    n1_transfer: bool,
    time_series: bool,
    voltage: VoltageClass,
) -> str:
    """``gridcap capacity``'s rows as the text of ``--format``."""
    per_bus = level is CapacityLevel.bus and method is CapacityMethod.powerflow
    if fmt is TableFormat.json:
        return json.dumps(rows, ensure_ascii=False, indent=1)
    if fmt is TableFormat.csv:
        return rows_to_csv(rows)
    if fmt is TableFormat.geojson:
        if per_bus:
            from grid_models import bus_positions

            pos = bus_positions(model.net)
            rows = [{**r, "lon_deg": pos[r["bus"]][0], "lat_deg": pos[r["bus"]][1]} for r in rows]
        collection = rows_to_geojson(rows, "capacity_" + level.value)
        return json.dumps(collection, ensure_ascii=False, allow_nan=False)
    columns: list[str]
    if summary or n1_transfer:
        columns = [c for c in (rows[0].keys() if rows else []) if c != "ties"]
    elif per_bus:
        columns = ["bus"] + (["vn_kv"] if voltage is not VoltageClass.mv else [])
        columns += ["p_mw_max", "limiting"] + (["at"] if time_series else [])
    elif level is CapacityLevel.connection_point:
        columns = _TABLE_COLUMNS["connection_point"]  # type: ignore[assignment]
    else:
        columns = _ELEMENT_COLUMNS
    return rows_to_table(rows, columns)


@app.command("what-if")
def what_if_command(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML (see docs/what-if.md)")],
    network: Annotated[str, typer.Option(help="network spec")] = DEFAULT_NETWORK,
    out: Annotated[Path | None, typer.Option("--out", help="folder for the results")] = None,
    database: Annotated[
        str | None,
        typer.Option(help="the service's database: show which stored applications change scheme"),
    ] = None,
) -> None:
    """Apply a scenario to a copy of the network and show the capacity before and after,
    with a checked project for every element left red; with ``years`` in the scenario, a
    multi-year study: the problem list of every year and the project library."""
    from capacity import load_scenario, render_what_if, what_if, write_what_if_pngs

    model = _load(network)
    try:
        loaded = load_scenario(scenario, model)
        if loaded.years:
            _study_command(model, loaded, out, database)
            return
        with tqdm(total=3, desc="what-if", disable=None) as bar:
            result = what_if(model, loaded)
            bar.update(1)
            applications = _applications_effect(model, result.model_after, loaded, database)
            bar.update(2)
    except (CapacityError, SchemeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    summary = result.summary()
    if applications.get("schemes"):
        changed = [a for a in applications["schemes"] if a["changed"]]
        typer.echo(
            f"stored applications whose scheme changes: {len(changed)} of "
            f"{len(applications['schemes'])}"
        )
    if applications.get("reserve_pool"):
        pool = applications["reserve_pool"]
        typer.echo(
            f"reserve pool of {pool['applications']}: CP-SAT serves "
            f"{pool['cp_sat']['served']} ({pool['cp_sat']['cost_cny']:,} CNY), greedy "
            f"{pool['greedy']['served']} ({pool['greedy']['cost_cny']:,} CNY)"
        )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "capacity_before_after.csv").write_text(rows_to_csv(result.rows), "utf-8")
        (out / "what_if.json").write_text(
            json.dumps(
                {
                    "summary": summary,
                    "newly_constrained": result.newly_constrained,
                    "upgrades": result.upgrades,
                    "not_closable": result.not_closable,
                    "applications": applications,
                    "elements": result.rows,
                },
                ensure_ascii=False,
                indent=1,
            ),
            "utf-8",
        )
        (out / "capacity_after.geojson").write_text(
            json.dumps(
                rows_to_geojson([r for r in result.rows if r["lon_deg"] is not None], "what_if"),
                ensure_ascii=False,
            ),
            "utf-8",
        )
        (out / "what_if.html").write_text(render_what_if(result), "utf-8")
        write_what_if_pngs(result, out)
        (out / "upgrades.csv").write_text(rows_to_csv(_flat(result.upgrades)), "utf-8")
        typer.echo(
            f"wrote {out}: capacity_before_after.csv, what_if.json, "
            "capacity_after.geojson, what_if.html, upgrades.csv, capacity_map.png, "
            "feeder_loading.png",
            err=True,
        )
    typer.echo(f"scenario {summary['scenario']}: " + "; ".join(summary["changes"]))
    typer.echo(
        f"lights before {summary['lights']['before']}, after "
        f"{summary['lights']['after']}; newly constrained: "
        f"{summary['newly_constrained']}"
    )
    typer.echo(
        f"upgrades: {summary['upgrades']} projects, {summary['upgrade_cost_cny']:,.0f} CNY "
        f"(customer-owned transformers {summary['upgrade_cost_customer_cny']:,.0f} CNY), "
        f"lights with them {summary['lights']['with_upgrades']}; "
        f"not closable by the catalogue: {summary['not_closable']}"
    )
    feeders = [
        r
        for r in result.rows
        if r["kind"] == "feeder"
        and r["c1_kva_after"] is not None
        and r["c1_kva_after"] != r["c1_kva_before"]
    ]
    if feeders:
        typer.echo(
            rows_to_table(
                feeders[:40],
                ["id", "name", "c1_kva_before", "c1_kva_after", "light_before", "light_after"],
            )
        )


def _flat(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a CSV file: lists joined with ``;`` (project ids, line numbers)."""
    return [
        {k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in r.items()} for r in rows
    ]


def _study_command(model: GridModel, scenario: Any, out: Path | None, database: str | None) -> None:
    """A multi-year study: run it, write its files, print the figures per year."""
    from capacity import run_study, write_study

    with tqdm(total=2, desc=f"study {scenario.years} years", disable=None) as bar:
        study = run_study(model, scenario)
        bar.update(1)
        final = study.years[-1].model_after
        applications = _applications_effect(model, final, scenario, database)
        bar.update(1)
    summary = study.summary()
    if out is not None:
        names = write_study(study, out, {"applications": applications})
        typer.echo(f"wrote {out}: {', '.join(names)}", err=True)
    typer.echo(
        f"scenario {summary['scenario']} over {summary['years']} years: "
        + "; ".join(summary["changes"])
    )
    rows = [
        {
            "year": y["year"],
            **y["problems"],
            "red_points": y["red_points"],
            "projects": y["projects"],
            "cost_cny": y["cost_cny"],
            "customer_cny": y["cost_customer_cny"],
            "unresolved": y["unresolved"],
        }
        for y in summary["per_year"]
    ]
    typer.echo(rows_to_table(rows, list(rows[0])))
    typer.echo(
        f"project library: {summary['projects']} projects, {summary['cost_cny']:,} CNY "
        f"(customer-owned transformers {summary['cost_customer_cny']:,} CNY); "
        f"elements no catalogue project closes: {summary['unresolved']}; "
        f"{summary['seconds']:.1f} s"
    )


def _applications_effect(
    model: GridModel, after: GridModel, scenario: Any, database: str | None
) -> dict[str, Any]:
    """Stored applications whose scheme changes, and the scenario's reserve pool."""
    from scheme_generator import SchemeContext, parse_application, reserve_pool, schemes_that_change

    out: dict[str, Any] = {}
    if not database and not scenario.reserve_pool:
        return out
    after_ctx = SchemeContext.build(after)
    if database:
        from sqlalchemy import select

        from api._db import ApplicationRow, Database

        db = Database(database)
        with db.sessions() as s:
            rows = (
                s.execute(
                    select(ApplicationRow).where(
                        ApplicationRow.status.in_(("scheme_offered", "option_selected"))
                    )
                )
                .scalars()
                .all()
            )
            apps = [(r.id, parse_application(r.application)) for r in rows]
        db.engine.dispose()
        out["schemes"] = schemes_that_change(SchemeContext.build(model), after_ctx, apps)
    if scenario.reserve_pool:
        out["reserve_pool"] = reserve_pool(after_ctx, list(scenario.reserve_pool))
    return out


class SchemeFormat(StrEnum):
    json = "json"
    html = "html"


class Audience(StrEnum):
    customer = "customer"
    planner = "planner"


@app.command("scheme")
def scheme(
    application: Annotated[Path, typer.Argument(help="application JSON file (contract)")],
    network: Annotated[str, typer.Option(help="network spec")] = DEFAULT_NETWORK,
    fmt: Annotated[SchemeFormat, typer.Option("--format")] = SchemeFormat.json,
    out: Annotated[Path | None, typer.Option("--out", help="file to write")] = None,
    option: Annotated[str | None, typer.Option(help="option for the reply sheet")] = None,
    audience: Annotated[
        Audience,
        typer.Option(help="customer: the document sent; planner: with the internal figures"),
    ] = Audience.customer,
) -> None:
    """The supply scheme for an application (nothing stored or reserved); with --format
    html the customer's document (HV reply sheet or LV notice)."""
    from scheme_generator import (
        InvalidApplicationError,
        SchemeContext,
        SchemeError,
        generate_scheme,
        parse_application,
        render_reply_sheet,
    )

    try:
        raw = json.loads(application.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {application}: not a readable JSON file ({exc})", err=True)
        raise typer.Exit(code=2) from exc
    model = _load(network)
    try:
        app_ = parse_application(raw)
        result = generate_scheme(SchemeContext.build(model), app_)
    except InvalidApplicationError as exc:
        for p in exc.problems:
            typer.echo(f"error: {p.field}: {p.reason}", err=True)
        raise typer.Exit(code=2) from exc
    except (SchemeError, CapacityError, GridModelError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if fmt is SchemeFormat.html:
        try:
            sheet = render_reply_sheet(result, option, audience=audience.value)
        except ValueError as exc:  # an option the scheme does not have
            typer.echo(f"error: --option: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        _write(sheet, out)
    else:
        _write(json.dumps(result, ensure_ascii=False, indent=1), out)


@app.command("serve")
def serve(
    network: Annotated[str, typer.Option(help="network spec")] = DEFAULT_NETWORK,
    database: Annotated[
        str | None,
        typer.Option(
            help="database URL (default: $GRIDCAP_DATABASE_URL, else SQLite under ./data)"
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="server processes", min=1, max=64)] = 1,
) -> None:
    """Start the gridcap service on a network (customer page at /, API at /api/v1)."""
    import os

    import uvicorn

    from api._app import create_app
    from api._http import GuardedH11Protocol
    from grid_models import load_rules

    http = load_rules().get("service.http")
    # a request's head and body have deadlines (api/_http.py); idle connections close
    guards: dict[str, Any] = {
        "http": GuardedH11Protocol,
        "timeout_keep_alive": int(http["keep_alive_seconds"]),
        "h11_max_incomplete_event_size": 16 * 1024,
        "proxy_headers": True,
    }

    if database:
        os.environ["GRIDCAP_DATABASE_URL"] = database
    model = _load(network)
    typer.echo(
        f"gridcap serving network {model.id} (version {model.version}) "
        f"at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)"
    )
    if workers > 1:
        os.environ["GRIDCAP_NETWORK"] = network
        uvicorn.run(
            "api._app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            **guards,
        )
    else:
        # /health says "starting" while the capacity is computed; then the service answers
        uvicorn.run(
            create_app(model, database_url=database, wait_ready=False),
            host=host,
            port=port,
            log_level="info",
            **guards,
        )


def main() -> None:
    app()
