"""The what-if and study pictures: capacity maps (before, after, with the projects), the
first red year of every point, feeder loading against the N-1 limit, problems and investment
per year.

Each picture is drawn once as a list of shapes (:class:`Canvas`) and written two ways: PNG
through Pillow (CJK labels when a Noto CJK font is installed) and inline SVG for the HTML
report (:func:`to_svg`, with a tooltip on every point that is not plainly green). Maps carry
the area classes as a basemap, the 10 kV lines, the substations and a legend; charts carry
axes with ticks, labels and units.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from capacity._study import PROBLEM_LABELS, PROJECT_LABELS, StudyResult
from capacity._whatif import WhatIfResult
from grid_models import AREA_CLASSES, GridModel, load_rules

RGB = tuple[int, int, int]
LIGHTS: dict[str, RGB] = {"green": (46, 157, 75), "yellow": (224, 168, 0), "red": (214, 58, 47)}
_GREY: RGB = (150, 150, 150)
_AREA_FILL: dict[str, RGB] = {
    "city_centre": (238, 222, 236),
    "urban": (224, 233, 246),
    "town": (238, 240, 220),
    "rural": (250, 250, 246),
}
_AREA_ZH = {"city_centre": "市中心区", "urban": "市区", "town": "城镇", "rural": "农村"}
_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
_SERIES: tuple[RGB, ...] = (
    (214, 58, 47),
    (240, 140, 40),
    (120, 80, 170),
    (40, 120, 190),
    (60, 160, 160),
    (140, 140, 140),
    (46, 157, 75),
)


# ------------------------------------------------------------------ shapes and backends
@dataclass(frozen=True)
class Shape:
    """One drawn thing: ``kind`` rect | line | segments | polygon | circle | text (pixels)."""

    kind: str
    points: tuple[tuple[float, float], ...]
    fill: RGB | None = None
    stroke: RGB | None = None
    width: float = 1.0
    radius: float = 0.0
    text: str = ""
    size: int = 12
    anchor: str = "start"  # start | middle | end (text); the text's baseline is points[0]
    title: str = ""  # SVG tooltip


@dataclass
class Canvas:
    """A picture as shapes on a white ``width`` × ``height`` page."""

    width: int
    height: int
    alt: str
    shapes: list[Shape] = field(default_factory=list)

    def rect(self, x: float, y: float, w: float, h: float, fill: RGB | None, **kw: Any) -> None:
        self.shapes.append(Shape("rect", ((x, y), (x + w, y + h)), fill=fill, **kw))

    def line(self, points: Sequence[tuple[float, float]], stroke: RGB, width: float = 1) -> None:
        self.shapes.append(Shape("line", tuple(points), stroke=stroke, width=width))

    def segments(
        self,
        pairs: Sequence[tuple[tuple[float, float], tuple[float, float]]],
        stroke: RGB,
        width: float = 1,
    ) -> None:
        """Separate straight pieces drawn alike (one SVG path)."""
        flat = tuple(pt for pair in pairs for pt in pair)
        self.shapes.append(Shape("segments", flat, stroke=stroke, width=width))

    def polygon(self, points: Sequence[tuple[float, float]], fill: RGB, **kw: Any) -> None:
        self.shapes.append(Shape("polygon", tuple(points), fill=fill, **kw))

    def circle(self, x: float, y: float, r: float, fill: RGB | None, **kw: Any) -> None:
        self.shapes.append(Shape("circle", ((x, y),), fill=fill, radius=r, **kw))

    def text(self, x: float, y: float, text: str, size: int = 12, **kw: Any) -> None:
        kw.setdefault("fill", (20, 20, 20))
        self.shapes.append(Shape("text", ((x, y),), text=text, size=size, **kw))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def to_png(canvas: Canvas, path: Path) -> Path:
    """Draw ``canvas`` with Pillow and save it as PNG."""
    img = Image.new("RGB", (canvas.width, canvas.height), "white")
    draw = ImageDraw.Draw(img)
    fonts: dict[int, Any] = {}
    for s in canvas.shapes:
        if s.kind == "rect":
            (x0, y0), (x1, y1) = s.points
            draw.rectangle([x0, y0, x1, y1], fill=s.fill, outline=s.stroke, width=int(s.width))
        elif s.kind == "line":
            draw.line(list(s.points), fill=s.stroke, width=max(1, round(s.width)))
        elif s.kind == "segments":
            for k in range(0, len(s.points) - 1, 2):
                draw.line([s.points[k], s.points[k + 1]], fill=s.stroke, width=round(s.width))
        elif s.kind == "polygon":
            draw.polygon(list(s.points), fill=s.fill, outline=s.stroke)
        elif s.kind == "circle":
            (x, y), r = s.points[0], s.radius
            draw.ellipse(
                [x - r, y - r, x + r, y + r], fill=s.fill, outline=s.stroke, width=round(s.width)
            )
        else:
            font = fonts.setdefault(s.size, _font(s.size))
            (x, y) = s.points[0]
            w = draw.textlength(s.text, font=font)
            x -= {"start": 0.0, "middle": w / 2, "end": w}[s.anchor]
            draw.text((x, y), s.text, fill=s.fill, font=font, anchor="ls")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _hex(c: RGB | None) -> str:
    return "none" if c is None else "#{:02x}{:02x}{:02x}".format(*c)


def to_svg(canvas: Canvas) -> str:
    """``canvas`` as inline SVG that scales to its container (no scripts, no fetches)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {canvas.width} {canvas.height}" '
        f'width="{canvas.width}" height="{canvas.height}" role="img" '
        f'aria-label="{escape(canvas.alt)}" class="figure" '
        'font-family="Noto Sans CJK SC, sans-serif">'
        f'<rect width="{canvas.width}" height="{canvas.height}" fill="#ffffff"/>'
    ]
    for s in canvas.shapes:
        tip = f"<title>{escape(s.title)}</title>" if s.title else ""
        stroke = f' stroke="{_hex(s.stroke)}" stroke-width="{s.width:g}"' if s.stroke else ""
        if s.kind == "rect":
            (x0, y0), (x1, y1) = s.points
            out.append(
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
                f'fill="{_hex(s.fill)}"{stroke}>{tip}</rect>'
            )
        elif s.kind == "line":
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in s.points)
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{_hex(s.stroke)}" '
                f'stroke-width="{s.width:g}"/>'
            )
        elif s.kind == "segments":
            d = "".join(
                f"M{s.points[k][0]:.1f} {s.points[k][1]:.1f}"
                f"L{s.points[k + 1][0]:.1f} {s.points[k + 1][1]:.1f}"
                for k in range(0, len(s.points) - 1, 2)
            )
            out.append(
                f'<path d="{d}" fill="none" stroke="{_hex(s.stroke)}" stroke-width="{s.width:g}"/>'
            )
        elif s.kind == "polygon":
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in s.points)
            out.append(f'<polygon points="{pts}" fill="{_hex(s.fill)}"{stroke}/>')
        elif s.kind == "circle":
            (x, y) = s.points[0]
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s.radius:g}" fill="{_hex(s.fill)}"'
                f"{stroke}>{tip}</circle>"
            )
        else:
            (x, y) = s.points[0]
            out.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="{s.size}" fill="{_hex(s.fill)}" '
                f'text-anchor="{s.anchor}">{escape(s.text)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------ maps
@dataclass
class MapScene:
    """A network's map layers in lon/lat: area-class polygons (the basemap), 10 kV lines by
    feeder, substations and connection points."""

    areas: list[tuple[str, list[tuple[float, float]]]]
    lines: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]]
    substations: list[tuple[str, float, float]]
    points: dict[str, tuple[str, float, float]]
    lon0: float
    lat0: float
    span: float
    kx: float  # metres per degree of longitude over those of latitude at this latitude

    @classmethod
    def of(cls, model: GridModel) -> MapScene:
        from grid_models import bus_positions

        where = bus_positions(model.net)
        points = {
            c.id: (c.name, c.lon_deg, c.lat_deg)
            for c in model.connection_points.values()
            if math.isfinite(c.lon_deg) and math.isfinite(c.lat_deg)
        }
        subs = [(s.name, s.lon_deg, s.lat_deg) for s in model.substations.values()]
        lons = [p[1] for p in points.values()] + [s[1] for s in subs]
        lats = [p[2] for p in points.values()] + [s[2] for s in subs]
        lon0, lon1 = (min(lons), max(lons)) if lons else (0.0, 1.0)
        lat0, lat1 = (min(lats), max(lats)) if lats else (0.0, 1.0)
        kx = math.cos(math.radians((lat0 + lat1) / 2))
        span = max((lon1 - lon0) * kx, lat1 - lat0) or 1.0
        lines: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {}
        line = model.net.line
        vn = model.net.bus["vn_kv"]
        for a, b, on in zip(line["from_bus"], line["to_bus"], line["in_service"], strict=True):
            if not bool(on) or float(vn.at[int(a)]) <= 1.0:
                continue
            pa, pb = where.get(int(a)), where.get(int(b))
            if pa is None or pb is None or None in pa or None in pb:
                continue
            feeder = model.bus_feeder.get(int(b)) or model.bus_feeder.get(int(a)) or ""
            lines.setdefault(feeder, []).append(((pa[0], pa[1]), (pb[0], pb[1])))  # type: ignore[arg-type]
        areas: list[tuple[str, list[tuple[float, float]]]] = []
        for area in model.areas:
            if area.kind not in AREA_CLASSES or area.kind == "rural":
                continue
            geom = area.geometry.simplify(span / 400)
            for poly in getattr(geom, "geoms", [geom]):
                outline = getattr(poly, "exterior", None)
                if outline is not None:
                    areas.append((area.kind, [(float(x), float(y)) for x, y in outline.coords]))
        order: dict[str, int] = {c: i for i, c in enumerate(AREA_CLASSES)}
        areas.sort(key=lambda a: -order[a[0]])  # city centre drawn last, on top
        return cls(areas, lines, subs, points, lon0, lat0, span, kx)

    def xy(self, lon: float, lat: float, ox: float, oy: float, size: float) -> tuple[float, float]:
        pad = 12.0
        x = ox + pad + (lon - self.lon0) * self.kx / self.span * (size - 2 * pad)
        y = oy + size - pad - (lat - self.lat0) / self.span * (size - 2 * pad)
        return x, y


@dataclass
class MapPanel:
    """One map: a title, each point's light, each feeder's light and, against the first
    panel, the points whose openable capacity moved by more than the rules' threshold."""

    title: str
    point_light: Mapping[str, str | None]
    feeder_light: Mapping[str, str | None]
    point_kva: Mapping[str, float | None]
    changed: Mapping[str, int] = field(default_factory=dict)  # -1 down, +1 up


def _changes(
    before: Mapping[str, float | None], after: Mapping[str, float | None], threshold: float
) -> dict[str, int]:
    out = {}
    for k, b in before.items():
        a = after.get(k)
        if a is None or b is None:
            continue
        if a < b - threshold:
            out[k] = -1
        elif a > b + threshold:
            out[k] = 1
    return out


def _light_changes(
    before: Mapping[str, str | None], after: Mapping[str, str | None]
) -> dict[str, int]:
    rank = {"green": 0, "yellow": 1, "red": 2}
    out = {}
    for k, b in before.items():
        a = after.get(k)
        if a is not None and b is not None and a != b:
            out[k] = -1 if rank[a] > rank[b] else 1
    return out


def map_figure(
    scene: MapScene,
    panels: Sequence[MapPanel],
    rings: tuple[str, str] | None = None,
    size: int = 400,
) -> Canvas:
    """Panels side by side over one basemap, with the legend below; ``rings``: what the
    black and blue rings mean (by default a move of the openable capacity)."""
    gap, top = 16, 34
    width = len(panels) * size + (len(panels) - 1) * gap
    canvas = Canvas(width, top + size + 112, "；".join(p.title for p in panels))
    for k, panel in enumerate(panels):
        ox, oy = k * (size + gap), float(top)
        canvas.text(ox + 2, 22, panel.title, 16)
        canvas.rect(ox, oy, size, size, _AREA_FILL["rural"], stroke=(190, 190, 190))
        for kind, ring in scene.areas:
            canvas.polygon([scene.xy(x, y, ox, oy, size) for x, y in ring], _AREA_FILL[kind])
        for feeder, segs in scene.lines.items():
            red = panel.feeder_light.get(feeder) == "red"
            colour: RGB = (235, 150, 140) if red else (185, 185, 185)
            canvas.segments(
                [(scene.xy(*a, ox, oy, size), scene.xy(*b, ox, oy, size)) for a, b in segs],
                colour,
                2 if red else 1,
            )
        for cp_id, (name, lon, lat) in scene.points.items():
            light = panel.point_light.get(cp_id)
            x, y = scene.xy(lon, lat, ox, oy, size)
            move = panel.changed.get(cp_id)
            kva = panel.point_kva.get(cp_id)
            tip = "" if light == "green" and not move else f"{name}：C2 {_kva(kva)}"
            canvas.circle(x, y, 2.2, LIGHTS.get(light or "", _GREY), title=tip)
            if move:
                edge: RGB = (20, 20, 20) if move < 0 else (30, 90, 220)
                canvas.circle(x, y, 5.0, None, stroke=edge, width=1.2)
        for name, lon, lat in scene.substations:
            x, y = scene.xy(lon, lat, ox, oy, size)
            _substation(canvas, x, y, name)
    _map_legend(canvas, top + size + 14, rings)
    return canvas


def _text_px(text: str, size: int) -> float:
    """About how wide ``text`` is set at ``size`` px (CJK full width, the rest half)."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.55 for ch in text)


def _substation(canvas: Canvas, x: float, y: float, name: str) -> None:
    """A substation: a black square and its name on a white label."""
    canvas.rect(x - 5, y - 5, 10, 10, (20, 20, 20), stroke=(255, 255, 255), width=1.5)
    canvas.rect(x + 7, y - 19, _text_px(name, 12) + 4, 16, (255, 255, 255), stroke=(120, 120, 120))
    canvas.text(x + 9, y - 6, name, 12)


def _kva(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f} kVA"


def _map_legend(canvas: Canvas, y: float, rings: tuple[str, str] | None) -> None:
    threshold = float(load_rules().get("study.map_changed_kva"))
    down, up = rings or (
        f"可开放容量减少 >{threshold:g} kVA（较第一幅）",
        f"可开放容量增加 >{threshold:g} kVA",
    )
    items: list[tuple[str, Any]] = [
        ("绿：可开放容量 C2>0", ("dot", LIGHTS["green"])),
        ("黄：C2≤0<C1（在途占满）", ("dot", LIGHTS["yellow"])),
        ("红：C1≤0 或上级受限", ("dot", LIGHTS["red"])),
        (down, ("ring", (20, 20, 20))),
        (up, ("ring", (30, 90, 220))),
    ]
    rows = [
        items,
        [
            ("变电站", ("square", (20, 20, 20))),
            ("10kV线路", ("line", (185, 185, 185))),
            ("红灯线路", ("line", (235, 150, 140))),
            *((_AREA_ZH[c], ("area", _AREA_FILL[c])) for c in AREA_CLASSES),
        ],
    ]
    for r, row in enumerate(rows):
        x = 4.0
        yy = y + 8 + r * 26
        for label, (mark, colour) in row:
            if mark == "dot":
                canvas.circle(x + 6, yy, 4, colour)
            elif mark == "ring":
                canvas.circle(x + 6, yy, 6, None, stroke=colour, width=1.5)
            elif mark == "square":
                canvas.rect(x + 1, yy - 5, 10, 10, colour)
            elif mark == "line":
                canvas.line([(x, yy), (x + 14, yy)], colour, 2)
            else:
                canvas.rect(x, yy - 6, 14, 12, colour, stroke=(190, 190, 190))
            canvas.text(x + 18, yy + 4, label, 12)
            x += 34 + _text_px(label, 12)
    canvas.text(
        4, y + 72, "底图：区域类别（Q/GDW 1738 供电分区）；点：接入点；悬停查看名称与C2。", 11
    )


def first_red_figure(
    scene: MapScene, first_red: Mapping[str, int], years: int, size: int = 520
) -> Canvas:
    """Every point coloured by the first year it turns red (grey: never within the study)."""
    top = 34
    canvas = Canvas(size + 230, top + size + 10, "各接入点首次变红年份")
    canvas.text(2, 22, "各接入点首次变红年份（未实施当年新项目前）", 16)
    canvas.rect(0, top, size, size, _AREA_FILL["rural"], stroke=(190, 190, 190))
    for kind, ring in scene.areas:
        canvas.polygon([scene.xy(x, y, 0, top, size) for x, y in ring], _AREA_FILL[kind])
    for segs in scene.lines.values():
        pairs = [(scene.xy(*a, 0, top, size), scene.xy(*b, 0, top, size)) for a, b in segs]
        canvas.segments(pairs, (190, 190, 190))
    palette = _year_palette(years)
    for cp_id, (name, lon, lat) in scene.points.items():
        year = first_red.get(cp_id)
        x, y = scene.xy(lon, lat, 0, top, size)
        if year is None:
            canvas.circle(x, y, 1.8, (200, 200, 200))
        else:
            canvas.circle(x, y, 3.0, palette[year - 1], title=f"{name}：第{year}年变红")
    for name, lon, lat in scene.substations:
        x, y = scene.xy(lon, lat, 0, top, size)
        _substation(canvas, x, y, name)
    lx = size + 20
    canvas.text(lx, top + 18, "首次变红年份", 13)
    for i in range(years):
        yy = top + 42 + i * 22
        canvas.circle(lx + 6, yy - 4, 5, palette[i])
        canvas.text(lx + 18, yy, f"第{i + 1}年", 12)
    yy = top + 42 + years * 22
    canvas.circle(lx + 6, yy - 4, 3, (200, 200, 200))
    canvas.text(lx + 18, yy, "研究期内不变红", 12)
    canvas.rect(lx, yy + 16, 10, 10, (20, 20, 20))
    canvas.text(lx + 18, yy + 25, "变电站", 12)
    return canvas


def _year_palette(years: int) -> list[RGB]:
    """Dark red (soonest) to light orange (latest)."""
    a, b = (150, 20, 30), (250, 190, 90)
    n = max(years - 1, 1)
    return [tuple(round(a[k] + (b[k] - a[k]) * i / n) for k in range(3)) for i in range(years)]  # type: ignore[misc]


# ------------------------------------------------------------------ charts
def _nice_step(top: float, ticks: int = 5) -> float:
    raw = max(top, 1e-9) / ticks
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


@dataclass(frozen=True)
class LoadingRow:
    """One feeder: its name, load rates (%) per series and its N-1 limit (%)."""

    name: str
    rates: tuple[float | None, ...]
    limit: float


def loading_figure(
    rows: Sequence[LoadingRow], series: Sequence[str], title: str, width: int = 900
) -> Canvas:
    """Horizontal bars: each feeder's peak loading (% of its rating) per series against its
    N-1 limit (black tick); the last series is red where it passes the limit."""
    label_w, top, row_h = 150, 64, 8 + 7 * len(series)
    plot_w = width - label_w - 24
    high = max([120.0, *(r.limit for r in rows), *(v or 0 for r in rows for v in r.rates)])
    step = _nice_step(high, 6)
    x_max = math.ceil(high / step) * step
    height = top + row_h * max(len(rows), 1) + 56
    canvas = Canvas(width, height, title)
    canvas.text(4, 20, title, 15)
    greys: list[RGB] = [(190, 190, 190), (240, 160, 70)]
    lx = 4.0
    for i, name in enumerate(series):
        colour = greys[i] if i < len(series) - 1 and i < len(greys) else LIGHTS["green"]
        label = name + ("（超限为红）" if i == len(series) - 1 else "")
        canvas.rect(lx, 32, 14, 9, colour)
        canvas.text(lx + 18, 41, label, 12)
        lx += 34 + _text_px(label, 12)
    canvas.line([(lx + 7, 29), (lx + 7, 44)], (0, 0, 0), 2)
    canvas.text(lx + 14, 41, "N-1 负载率限值", 12)

    def sx(v: float) -> float:
        return label_w + min(v, x_max) / x_max * plot_w

    bottom = top + row_h * max(len(rows), 1)
    tick = 0.0
    while tick <= x_max + 1e-9:
        canvas.line([(sx(tick), top - 4), (sx(tick), bottom)], (225, 225, 225))
        canvas.line([(sx(tick), bottom), (sx(tick), bottom + 5)], (60, 60, 60))
        canvas.text(sx(tick), bottom + 18, f"{tick:g}", 11, anchor="middle")
        tick += step
    canvas.line([(label_w, top - 4), (label_w, bottom)], (60, 60, 60))
    canvas.line([(label_w, bottom), (label_w + plot_w, bottom)], (60, 60, 60))
    canvas.text(
        label_w + plot_w / 2,
        bottom + 40,
        "负载率（%，峰值负荷 ÷ 线路额定容量）",
        12,
        anchor="middle",
    )
    for i, r in enumerate(rows):
        y = top + i * row_h
        canvas.text(label_w - 6, y + row_h / 2 + 4, r.name, 11, anchor="end")
        for k, v in enumerate(r.rates):
            if v is None:
                continue
            last = k == len(r.rates) - 1
            colour = (
                (LIGHTS["red"] if v > r.limit else LIGHTS["green"])
                if last
                else greys[min(k, len(greys) - 1)]
            )
            canvas.rect(
                label_w, y + 3 + k * 7, sx(v) - label_w, 5, colour, title=f"{r.name} {v:.0f}%"
            )
        canvas.line([(sx(r.limit), y + 1), (sx(r.limit), y + row_h - 1)], (0, 0, 0), 2)
    return canvas


def year_bars_figure(
    years: Sequence[int],
    series: Mapping[str, Sequence[float]],
    title: str,
    y_label: str,
    stacked: bool = False,
    width: int = 620,
    height: int = 340,
) -> Canvas:
    """Bars per year, grouped (or stacked) by series, with both axes ticked and labelled."""
    left, right, top, bottom = 64, 16, 76, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    names = list(series)
    totals = [
        sum(series[n][i] for n in names)
        if stacked
        else max((series[n][i] for n in names), default=0)
        for i in range(len(years))
    ]
    step = _nice_step(max(totals, default=0) or 1.0, 5)
    y_max = max(step, math.ceil(max(totals, default=0) / step) * step)
    canvas = Canvas(width, height, title)
    canvas.text(4, 20, title, 15)
    lx = 4.0
    for k, n in enumerate(names):
        canvas.rect(lx, 30, 12, 10, _SERIES[k % len(_SERIES)])
        canvas.text(lx + 16, 40, n, 11)
        lx += 30 + _text_px(n, 11)

    def sy(v: float) -> float:
        return top + plot_h - v / y_max * plot_h

    tick = 0.0
    while tick <= y_max + 1e-9:
        canvas.line([(left, sy(tick)), (left + plot_w, sy(tick))], (228, 228, 228))
        canvas.line([(left - 5, sy(tick)), (left, sy(tick))], (60, 60, 60))
        canvas.text(
            left - 8, sy(tick) + 4, f"{tick:,.0f}" if step >= 1 else f"{tick:g}", 11, anchor="end"
        )
        tick += step
    canvas.line([(left, top), (left, top + plot_h)], (60, 60, 60))
    canvas.line([(left, top + plot_h), (left + plot_w, top + plot_h)], (60, 60, 60))
    canvas.text(4, top - 14, y_label, 11)
    slot = plot_w / max(len(years), 1)
    bar = slot * 0.7 / (1 if stacked else max(len(names), 1))
    for i, year in enumerate(years):
        x0 = left + i * slot + slot * 0.15
        base = 0.0
        for k, n in enumerate(names):
            v = float(series[n][i])
            x = x0 if stacked else x0 + k * bar
            lo = base if stacked else 0.0
            if v > 0:
                tip = f"第{year}年 {n}：{v:,.0f}"
                colour = _SERIES[k % len(_SERIES)]
                canvas.rect(x, sy(lo + v), bar, sy(lo) - sy(lo + v), colour, title=tip)
            if stacked:
                base += v
        mid = left + (i + 0.5) * slot
        canvas.line([(mid, top + plot_h), (mid, top + plot_h + 5)], (60, 60, 60))
        canvas.text(mid, top + plot_h + 19, f"第{year}年", 11, anchor="middle")
    canvas.text(left + plot_w / 2, height - 8, "规划年", 11, anchor="middle")
    return canvas


# ------------------------------------------------------------------ what-if and study
def _lights(rows: Iterable[dict[str, Any]], kind: str, key: str) -> dict[str, Any]:
    return {r["id"]: r.get(key) for r in rows if r["kind"] == kind}


def what_if_figures(result: WhatIfResult) -> dict[str, Canvas]:
    """The what-if's pictures by file stem: ``capacity_map``, ``feeder_loading``."""
    rows = result.rows
    threshold = float(load_rules().get("study.map_changed_kva"))
    scene = MapScene.of(result.model_with_upgrades or result.model_after)
    before = _lights(rows, "connection_point", "c2_kva_before")
    panels = []
    for side, title in (
        ("before", "推演前"),
        ("after", "推演后"),
        ("with_upgrades", "推演后＋改造项目"),
    ):
        kva = _lights(rows, "connection_point", f"c2_kva_{side}")
        panels.append(
            MapPanel(
                f"{title}可开放容量",
                _lights(rows, "connection_point", f"light_{side}"),
                _lights(rows, "feeder", f"light_{side}"),
                kva,
                {} if side == "before" else _changes(before, kva, threshold),
            )
        )
    feeders = [r for r in rows if r["kind"] == "feeder" and r["rating_kva"]]

    def rate(r: dict[str, Any], key: str) -> float | None:
        v = r.get(key)
        return None if v is None else 100.0 * v / r["rating_kva"]

    loading = [
        LoadingRow(
            str(r["name"]),
            (
                rate(r, "peak_kva_before"),
                rate(r, "peak_kva_after"),
                rate(r, "peak_kva_with_upgrades"),
            ),
            100.0 * (r["load_rate_limit"] or 1.0),
        )
        for r in sorted(feeders, key=lambda r: -(r["peak_kva_after"] or 0) / r["rating_kva"])
    ]
    return {
        "capacity_map": map_figure(scene, panels),
        "feeder_loading": loading_figure(
            loading,
            ("推演前", "推演后", "推演后＋改造项目"),
            "10kV线路负载率与N-1限值（按推演后负载率排序）",
        ),
    }


def write_what_if_pngs(result: WhatIfResult, folder: Path) -> list[Path]:
    """``capacity_map.png`` (before | after | with the upgrades) and ``feeder_loading.png``."""
    return [to_png(c, folder / f"{stem}.png") for stem, c in what_if_figures(result).items()]


def study_figures(study: StudyResult, loading_rows: int = 30) -> dict[str, Canvas]:
    """The study's pictures by file stem: ``capacity_map`` (today | last year without new
    projects | last year with the project library), ``first_red_map``, ``feeder_loading``,
    ``problems_by_year``, ``investment_by_year``."""
    final = study.years[-1]
    scene = MapScene.of(final.model_after)
    present = study.present.elements
    idle = (study.last_without_projects or final.capacity_before).elements
    done = final.capacity_after.elements

    def panel(title: str, els: Mapping[str, Any], changed: bool) -> MapPanel:
        # five years of growth lower nearly every point's figure: ring where the light moves
        lights = {k: e.light for k, e in els.items() if e.kind == "connection_point"}
        base = {k: e.light for k, e in present.items() if e.kind == "connection_point"}
        return MapPanel(
            title,
            lights,
            {k: e.light for k, e in els.items() if e.kind == "feeder"},
            {k: e.c2_kva for k, e in els.items() if e.kind == "connection_point"},
            _light_changes(base, lights) if changed else {},
        )

    n = study.scenario.years or 1
    panels = [
        panel("现状可开放容量", present, False),
        panel(f"第{n}年·不建新项目", idle, True),
        panel(f"第{n}年·实施项目库后", done, True),
    ]
    first_points = {k: y for k, y in study.first_red.items() if k.startswith("cp:")}
    rates_now = _rates(study.present)
    rates_idle = _rates(study.last_without_projects or final.capacity_before)
    rates_done = _rates(final.capacity_after)
    feeders = [e for e in done.values() if e.kind == "feeder"]
    feeders.sort(key=lambda e: -max(rates_idle.get(e.id, 0.0), rates_done.get(e.id, 0.0)))
    loading = [
        LoadingRow(
            e.name,
            (rates_now.get(e.id), rates_idle.get(e.id), rates_done.get(e.id)),
            100.0 * e.load_rate_limit,
        )
        for e in feeders[:loading_rows]
    ]
    years = [y.year for y in study.years]
    capacity_cats = ("overload", "heavy_load", "n1", "red")
    problems = {
        PROBLEM_LABELS[c]: [float(y.summary()["problems"][c]) for y in study.years]
        for c in capacity_cats
    }
    kinds = list(PROJECT_LABELS)
    money = {
        PROJECT_LABELS[k]: [
            sum(p.cost_cny for p in y.projects if p.kind == k and p.funding == "grid") / 1e4
            for y in study.years
        ]
        for k in kinds
    }
    money["客户专变增容"] = [
        sum(p.cost_cny for p in y.projects if p.funding == "customer") / 1e4 for y in study.years
    ]
    return {
        "capacity_map": map_figure(scene, panels, ("灯色较现状变差", "灯色较现状变好（项目所致）")),
        "first_red_map": first_red_figure(scene, first_points, n),
        "feeder_loading": loading_figure(
            loading,
            ("现状", f"第{n}年·不建新项目", f"第{n}年·实施项目库后"),
            f"10kV线路负载率与N-1限值（第{n}年负载率最高的{len(loading)}条）",
        ),
        "problems_by_year": year_bars_figure(
            years, problems, "各年容量类问题（实施当年新项目前）", "问题数（项）"
        ),
        "investment_by_year": year_bars_figure(
            years, money, "各年项目投资（按项目类型）", "投资（万元）", stacked=True
        ),
    }


def _rates(capacity: Any) -> dict[str, float]:
    from capacity._study import load_rates

    return {k: 100.0 * v for k, v in load_rates(capacity).items()}


def write_study_pngs(study: StudyResult, folder: Path) -> list[Path]:
    """The study's pictures as PNG files in ``folder`` (see :func:`study_figures`)."""
    return [to_png(c, folder / f"{stem}.png") for stem, c in study_figures(study).items()]
