"""A what-if study as one self-contained HTML page: capacity lights before and after on two
SVG maps, and each feeder's peak loading against its N-1 limit (no scripts, no web fonts,
nothing fetched)."""

from __future__ import annotations

from html import escape
from typing import Any

from capacity._whatif import WhatIfResult

_COLOURS = {"green": "#2e9d4b", "yellow": "#e0a800", "red": "#d63a2f", None: "#999999"}


def render_what_if(result: WhatIfResult) -> str:
    points = [
        r
        for r in result.rows
        if r["kind"] == "connection_point" and r["lon_deg"] is not None and r["lat_deg"] is not None
    ]
    feeders = [r for r in result.rows if r["kind"] == "feeder" and r["rating_kva"]]
    s = result.summary()
    maps = "".join(
        _map(points, side, title) for side, title in (("before", "推演前"), ("after", "推演后"))
    )
    upgrades = "".join(
        f"<tr><td>{escape(u['name'])}</td><td>{escape(u['kind'])}</td>"
        f"<td>{u['shortfall_kva']:,.0f}</td>"
        f"<td>{'—' if u['cost_cny'] is None else format(u['cost_cny'], ',.0f')}</td>"
        f"<td>{u['duration_workdays'] if u['duration_workdays'] is not None else '—'}</td></tr>"
        for u in result.upgrades
    )
    changes = "".join(f"<li>{escape(c)}</li>" for c in result.changes)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>规划推演 {escape(s["scenario"])}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; margin: 1.5em; color: #111; }}
.maps {{ display: flex; gap: 1em; flex-wrap: wrap; }}
figure {{ margin: 0; }} figcaption {{ font-weight: bold; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #aaa; padding: .2em .5em; }}
</style></head><body>
<h1>规划推演：{escape(s["scenario"])}</h1>
<ul>{changes}</ul>
<p>元素 {s["elements"]} 个；推演前 {_counts(s["lights"]["before"])}；推演后
{_counts(s["lights"]["after"])}；新增受限 {s["newly_constrained"]} 个；
需改造项目 {s["upgrades"]} 项，投资约 {s["upgrade_cost_cny"]:,.0f} 元。</p>
<div class="maps">{maps}</div>
<h2>10千伏线路负载率与N-1限值</h2>
{_bars(feeders)}
<h2>需改造项目</h2>
<table><tr><th>设备</th><th>项目</th><th>缺口 kVA</th><th>投资 元</th><th>工期 工作日</th></tr>
{upgrades or '<tr><td colspan="5">无</td></tr>'}</table>
</body></html>
"""


def _counts(counts: dict[str, int]) -> str:
    zh = {"green": "绿", "yellow": "黄", "red": "红"}
    return "、".join(f"{zh.get(k, k)} {v}" for k, v in sorted(counts.items()))


def _map(points: list[dict[str, Any]], side: str, title: str, size: int = 420) -> str:
    if not points:
        return ""
    lons = [p["lon_deg"] for p in points]
    lats = [p["lat_deg"] for p in points]
    x0, x1, y0, y1 = min(lons), max(lons), min(lats), max(lats)
    span = max(x1 - x0, y1 - y0) or 1.0
    dots = "".join(
        f'<circle cx="{10 + (p["lon_deg"] - x0) / span * (size - 20):.1f}" '
        f'cy="{size - 10 - (p["lat_deg"] - y0) / span * (size - 20):.1f}" r="2.2" '
        f'fill="{_COLOURS.get(p[f"light_{side}"], "#999")}"><title>{escape(p["name"])} '
        f"{p[f'c2_kva_{side}']} kVA</title></circle>"
        for p in points
    )
    return (
        f'<figure><figcaption>{title}可开放容量</figcaption><svg width="{size}" '
        f'height="{size}" viewBox="0 0 {size} {size}" role="img">'
        f'<rect width="100%" height="100%" fill="#f7f7f2"/>{dots}</svg></figure>'
    )


def _bars(feeders: list[dict[str, Any]]) -> str:
    feeders = sorted(feeders, key=lambda r: -(r["peak_kva_after"] or 0) / r["rating_kva"])
    row_h, width, label_w = 16, 760, 150
    scale = (width - label_w - 10) / 120.0  # up to 120 % of the rating
    parts = []
    for i, r in enumerate(feeders):
        y = i * row_h
        before = 100 * (r["peak_kva_before"] or 0) / r["rating_kva"]
        after = 100 * (r["peak_kva_after"] or 0) / r["rating_kva"]
        limit = 100 * (r["load_rate_limit"] or 1.0)
        colour = "#d63a2f" if after > limit else "#2e9d4b"
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="11">{escape(r["name"])}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{min(before, 120) * scale:.1f}" '
            f'height="5" fill="#bbbbbb"/>'
            f'<rect x="{label_w}" y="{y + 8}" width="{min(after, 120) * scale:.1f}" '
            f'height="6" fill="{colour}"><title>{after:.0f} %（限值 {limit:.0f} %）</title>'
            f'</rect><line x1="{label_w + limit * scale:.1f}" x2="{label_w + limit * scale:.1f}"'
            f' y1="{y}" y2="{y + row_h}" stroke="#333" stroke-width="1.5"/>'
        )
    height = max(row_h * len(feeders), 20)
    return (
        f"<p>灰：推演前；绿/红：推演后（红＝超过N-1限值，黑线）；横轴为线路额定容量的百分比。</p>"
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img">{"".join(parts)}</svg>'
    )
