"""What-if studies as self-contained HTML pages (no scripts, no web fonts, nothing fetched):
the pictures of :mod:`capacity._whatif_png` as inline SVG, the problem list, the project
library (项目库) and what no project closes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from capacity._study import PROBLEM_LABELS, PROJECT_COLUMNS, PROJECT_LABELS, StudyResult
from capacity._whatif import WhatIfResult
from capacity._whatif_png import study_figures, to_svg, what_if_figures

_ZH_LIGHT = {"green": "绿", "yellow": "黄", "red": "红"}
_ZH_KIND = {
    "main_transformer": "主变",
    "bus_section": "母线",
    "feeder": "10kV线路",
    "segment": "线路分段",
    "distribution_transformer": "配变",
    "connection_point": "接入点",
}
_CSS = """
body { font-family: "Noto Sans CJK SC", sans-serif; margin: 1.5em auto; color: #111;
       max-width: 1280px; padding: 0 1em; line-height: 1.5; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
figure { margin: 1em 0; min-width: 0; } figcaption { font-weight: bold; margin-bottom: .3em; }
svg.figure { max-width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; max-width: 100%; }
.pair { display: flex; flex-wrap: wrap; gap: 0 1.5em; }
table { border-collapse: collapse; font-size: .9em; }
td, th { border: 1px solid #aaa; padding: .2em .5em; vertical-align: top; }
th { background: #f0f0ea; } td.n { text-align: right; white-space: nowrap; }
tr.sub td { background: #f7f7f2; font-weight: bold; }
details { margin: .4em 0; } summary { cursor: pointer; }
.note { color: #555; font-size: .9em; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"{body}\n</body></html>\n"
    )


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "无") -> str:
    cells = []
    for row in rows:
        tds = []
        for v in row:
            if isinstance(v, int | float) and not isinstance(v, bool):
                tds.append(f'<td class="n">{v:,.0f}</td>')
            else:
                tds.append(f"<td>{escape('—' if v is None or v == '' else str(v))}</td>")
        cells.append("<tr>" + "".join(tds) + "</tr>")
    if not cells:
        cells = [f'<tr><td colspan="{len(head)}">{escape(empty)}</td></tr>']
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<div class="scroll"><table><tr>{th}</tr>{"".join(cells)}</table></div>'


def _counts(counts: dict[str, int]) -> str:
    return "、".join(f"{_ZH_LIGHT.get(k, k)} {v}" for k, v in sorted(counts.items()))


def _yuan(v: float) -> str:
    return f"{v / 1e4:,.1f} 万元"


# ------------------------------------------------------------------ single snapshot
def render_what_if(result: WhatIfResult) -> str:
    """The what-if page: lights before, after and with the upgrades; feeder loading; the
    upgrade projects with cost and what each closes; what none closes."""
    s = result.summary()
    figures = what_if_figures(result)
    changes = "".join(f"<li>{escape(c)}</li>" for c in result.changes)
    upgrades = _table(
        ("编号", "设备", "项目", "说明", "缺口 kVA", "投资 元", "出资", "工期 工作日", "解决"),
        (
            (
                u["id"],
                u["name"],
                PROJECT_LABELS.get(u["kind"], u["kind"]),
                u.get("description"),
                u["shortfall_kva"],
                u["cost_cny"],
                "客户" if u.get("funding") == "customer" else "电网",
                u["duration_workdays"],
                "、".join(u.get("fixes") or []),
            )
            for u in result.upgrades
        ),
    )
    open_rows = _table(
        ("设备", "类型", "C1 kVA", "原因"),
        (
            (u["name"], _ZH_KIND.get(u["kind"], u["kind"]), u["c1_kva"], u["reason"])
            for u in result.not_closable
        ),
    )
    body = f"""<h1>规划推演：{escape(s["scenario"])}</h1>
<ul>{changes}</ul>
<p>元素 {s["elements"]} 个；推演前 {_counts(s["lights"]["before"])}；推演后
{_counts(s["lights"]["after"])}；实施改造项目后 {_counts(s["lights"]["with_upgrades"])}；
新增受限 {s["newly_constrained"]} 个。需改造项目 {s["upgrades"]} 项，电网投资约
{s["upgrade_cost_cny"]:,.0f} 元（客户专变增容 {s["upgrade_cost_customer_cny"]:,.0f} 元）；
无法由项目库解决 {s["not_closable"]} 项。每个项目均以重算整个网络的可开放容量校核。</p>
{_figure("可开放容量：推演前、推演后、推演后＋改造项目", to_svg(figures["capacity_map"]))}
<h2>10千伏线路负载率与N-1限值</h2>
{to_svg(figures["feeder_loading"])}
<h2>需改造项目</h2>
{upgrades}
<h2>无法由项目库解决</h2>
{open_rows}
"""
    return _page(f"规划推演 {s['scenario']}", body)


# ------------------------------------------------------------------ multi-year study
def render_study(study: StudyResult, files: Sequence[str] = ()) -> str:
    """The study page: problems and projects per year, the pictures, the project library,
    the first red year of every element, the problem list of every year and what no
    project closes; ``files``: the CSV/JSON/PNG written beside it, linked."""
    s = study.summary()
    figures = study_figures(study)
    growth = "、".join(
        f"{zh} {s['growth_per_year_percent'].get(k, 0):g}%"
        for k, zh in (
            ("city_centre", "市中心区"),
            ("urban", "市区"),
            ("town", "城镇"),
            ("rural", "农村"),
        )
    )
    planned = [p for p in study.scenario.planned_projects]
    per_year = _table(
        (
            "年",
            *(PROBLEM_LABELS[c] for c in PROBLEM_LABELS),
            "红灯接入点",
            "新项目",
            "电网投资 万元",
            "客户投资 万元",
            "未解决",
        ),
        (
            (
                f"第{y['year']}年",
                *(y["problems"][c] for c in PROBLEM_LABELS),
                y["red_points"],
                y["projects"],
                y["cost_cny"] / 1e4,
                y["cost_customer_cny"] / 1e4,
                y["unresolved"],
            )
            for y in s["per_year"]
        ),
    )
    library: list[tuple[Any, ...]] = []
    for y in study.years:
        for p in y.projects:
            library.append(
                (
                    p.id,
                    f"第{p.year}年",
                    "规划" if p.source == "planned" else "推演",
                    PROJECT_LABELS.get(p.kind, p.kind),
                    p.name,
                    p.description,
                    round(p.cost_cny),
                    "客户" if p.funding == "customer" else "电网",
                    p.duration_workdays,
                    "、".join(p.fixes),
                )
            )
        total = sum(p.cost_cny for p in y.projects if p.funding == "grid")
        library.append(
            (
                "小计",
                f"第{y.year}年",
                "",
                f"{len(y.projects)} 项",
                "",
                "",
                round(total),
                "电网",
                "",
                "",
            )
        )
    library_html = _table(
        ("编号", "年份", "来源", "类型", "设备", "说明", "投资 元", "出资", "工期 工作日", "解决"),
        library,
    ).replace("<tr><td>小计", '<tr class="sub"><td>小计')
    first = [r for r in study.first_red_rows() if r["kind"] != "connection_point"]
    first_html = _table(
        ("设备", "类型", "首次变红", "现状已红", "自身不足", "解决项目", "无法解决的原因"),
        (
            (
                r["name"],
                _ZH_KIND.get(r["kind"], r["kind"]),
                f"第{r['first_red_year']}年",
                "是" if r["red_now"] else "否",
                "是" if r["own"] else "上级受限",
                r["fixed_by"].replace(";", "、"),
                r["reason"],
            )
            for r in first
        ),
    )
    problems = []
    for y in study.years:
        rows = sorted(
            y.problems, key=lambda p: (list(PROBLEM_LABELS).index(p["category"]), p["name"])
        )
        problems.append(
            f"<details><summary>第{y.year}年问题清单（{len(rows)} 项）</summary>"
            + _table(
                ("问题", "设备", "类型", "说明", "解决项目"),
                (
                    (
                        p["category_zh"],
                        p["name"],
                        _ZH_KIND.get(p["kind"], p["kind"]),
                        p["detail"],
                        "、".join(y.fixed.get(p["element_id"], ())),
                    )
                    for p in rows
                ),
            )
            + "</details>"
        )
    unresolved = _table(
        ("年", "设备", "类型", "C1 kVA", "原因"),
        (
            (
                f"第{u['year']}年",
                u["name"],
                _ZH_KIND.get(u["kind"], u["kind"]),
                u["c1_kva"],
                u["reason"],
            )
            for u in study.unresolved_rows()
        ),
        "无：每个变红的设备都有经重算校核的项目",
    )
    links = "".join(f'<li><a href="{escape(f)}">{escape(f)}</a></li>' for f in files)
    n = s["years"]
    body = f"""<h1>规划推演（{n}年）：{escape(s["scenario"])}</h1>
<p>负荷自然增长（每年）：{escape(growth)}。{"".join(escape(c) + "；" for c in s["changes"])}
规划项目 {len(planned)} 项按年投运；推演选出的项目在以后各年保留。每年先列问题（未实施当年新项目），
再为每个变红的设备配项目，并以重算整个网络的可开放容量校核。</p>
<p>{n}年共 {s["projects"]} 项，电网投资约 {_yuan(s["cost_cny"])}（客户专变增容
{_yuan(s["cost_customer_cny"])}）；无法由项目库解决的设备 {s["unresolved"]} 个。
计算用时 {s["seconds"]:.1f} 秒。</p>
<h2>各年问题与项目</h2>
{per_year}
<p class="note">单辐射与供电半径属网架结构问题，不由容量项目库解决，逐年列出供规划参考。</p>
<div class="pair">{_figure("各年容量类问题", to_svg(figures["problems_by_year"]))}
{_figure("各年项目投资", to_svg(figures["investment_by_year"]))}</div>
<h2>可开放容量地图</h2>
{_figure("现状、最后一年不建新项目、最后一年实施项目库后", to_svg(figures["capacity_map"]))}
{_figure("首次变红年份", to_svg(figures["first_red_map"]))}
<h2>10千伏线路负载率</h2>
{to_svg(figures["feeder_loading"])}
<h2>项目库</h2>
{library_html}
<h2>无法由项目库解决</h2>
{unresolved}
<h2>设备首次变红年份</h2>
<details><summary>{len(first)} 个设备（接入点见 first_red.csv）</summary>{first_html}</details>
<h2>问题清单</h2>
{"".join(problems)}
{f"<h2>文件</h2><ul>{links}</ul>" if links else ""}
"""
    return _page(f"规划推演 {s['scenario']}", body)


# ------------------------------------------------------------------ files
def _csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """CSV with a header even when there are no rows (a file a spreadsheet always opens)."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


PROBLEM_COLUMNS = (
    "year",
    "category",
    "category_zh",
    "element_id",
    "kind",
    "name",
    "substation_id",
    "value",
    "limit",
    "unit",
    "detail",
    "projects",
)
FIRST_RED_COLUMNS = (
    "element_id",
    "kind",
    "name",
    "substation_id",
    "first_red_year",
    "red_now",
    "own",
    "c1_kva_first_red",
    "fixed_by",
    "not_closable",
    "reason",
    "lon_deg",
    "lat_deg",
)
UNRESOLVED_COLUMNS = (
    "year",
    "element_id",
    "kind",
    "name",
    "substation_id",
    "c1_kva",
    "c2_kva",
    "own",
    "reason",
)
YEAR_COLUMNS = (
    "year",
    "id",
    "kind",
    "name",
    "substation_id",
    "c1_kva",
    "c2_kva",
    "light",
    "load_rate",
    "c1_kva_after",
    "c2_kva_after",
    "light_after",
    "load_rate_after",
    "rating_kva",
    "load_rate_limit",
)


def write_study(study: StudyResult, folder: Path, extra: dict[str, Any] | None = None) -> list[str]:
    """Everything a study produces, in ``folder``: ``study.json``, ``problems.csv`` (every
    year's problem list), ``projects.csv`` (the project library), ``first_red.csv``,
    ``unresolved.csv``, ``capacity_by_year.csv`` (every element, every year, before and
    after the year's projects), the pictures as PNG and ``study.html``; returns the names."""
    import json

    from capacity._whatif_png import write_study_pngs

    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "problems.csv": (PROBLEM_COLUMNS, study.problem_rows()),
        "projects.csv": (PROJECT_COLUMNS, study.project_rows()),
        "first_red.csv": (FIRST_RED_COLUMNS, study.first_red_rows()),
        "unresolved.csv": (UNRESOLVED_COLUMNS, study.unresolved_rows()),
        "capacity_by_year.csv": (
            YEAR_COLUMNS,
            [{"year": y.year, **r} for y in study.years for r in y.rows],
        ),
    }
    for name, (columns, rows) in tables.items():
        (folder / name).write_text(_csv(columns, rows), "utf-8")
    payload = {
        "summary": study.summary(),
        "projects": [p.to_dict() for p in study.projects],
        "problems": study.problem_rows(),
        "first_red": study.first_red_rows(),
        "unresolved": study.unresolved_rows(),
        **(extra or {}),
    }
    (folder / "study.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), "utf-8")
    pngs = [p.name for p in write_study_pngs(study, folder)]
    names = ["study.json", *tables, *pngs]
    (folder / "study.html").write_text(render_study(study, names), "utf-8")
    return ["study.html", *names]
