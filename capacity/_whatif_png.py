"""The what-if pictures as PNG: capacity lights before and after, and each feeder's peak
loading against its N-1 limit (Pillow; CJK labels when a Noto CJK font is installed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from capacity._whatif import WhatIfResult

_RGB = {"green": (46, 157, 75), "yellow": (224, 168, 0), "red": (214, 58, 47)}
_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def write_what_if_pngs(result: WhatIfResult, folder: Path) -> list[Path]:
    """``capacity_map.png`` (before | after) and ``feeder_loading.png``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _maps(result, folder / "capacity_map.png"),
        _bars(result, folder / "feeder_loading.png"),
    ]


def _maps(result: WhatIfResult, path: Path, size: int = 600) -> Path:
    points = [
        r
        for r in result.rows
        if r["kind"] == "connection_point" and r["lon_deg"] is not None and r["lat_deg"] is not None
    ]
    img = Image.new("RGB", (2 * size + 30, size + 50), "white")
    draw = ImageDraw.Draw(img)
    font = _font(20)
    if points:
        lons = [p["lon_deg"] for p in points]
        lats = [p["lat_deg"] for p in points]
        x0, y0 = min(lons), min(lats)
        span = max(max(lons) - x0, max(lats) - y0) or 1.0
        for k, (side, title) in enumerate((("before", "推演前"), ("after", "推演后"))):
            ox = k * (size + 30)
            draw.rectangle([ox, 40, ox + size, 40 + size], fill=(247, 247, 242))
            draw.text((ox + 8, 8), f"{title}可开放容量", fill="black", font=font)
            for p in points:
                x = ox + 10 + (p["lon_deg"] - x0) / span * (size - 20)
                y = 40 + size - 10 - (p["lat_deg"] - y0) / span * (size - 20)
                colour = _RGB.get(p[f"light_{side}"] or "", (150, 150, 150))
                draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=colour)
    img.save(path)
    return path


def _bars(result: WhatIfResult, path: Path) -> Path:
    feeders: list[dict[str, Any]] = sorted(
        (r for r in result.rows if r["kind"] == "feeder" and r["rating_kva"]),
        key=lambda r: -(r["peak_kva_after"] or 0) / r["rating_kva"],
    )
    row_h, width, label_w = 18, 900, 170
    scale = (width - label_w - 20) / 120.0
    img = Image.new("RGB", (width, 50 + row_h * max(len(feeders), 1)), "white")
    draw = ImageDraw.Draw(img)
    font = _font(13)
    draw.text(
        (8, 8),
        "10千伏线路负载率（灰：推演前；绿/红：推演后）与N-1限值（黑线）",
        fill="black",
        font=_font(16),
    )
    for i, r in enumerate(feeders):
        y = 40 + i * row_h
        before = 100 * (r["peak_kva_before"] or 0) / r["rating_kva"]
        after = 100 * (r["peak_kva_after"] or 0) / r["rating_kva"]
        limit = 100 * (r["load_rate_limit"] or 1.0)
        draw.text((8, y), str(r["name"]), fill="black", font=font)
        draw.rectangle(
            [label_w, y + 2, label_w + min(before, 120) * scale, y + 7], fill=(187, 187, 187)
        )
        draw.rectangle(
            [label_w, y + 9, label_w + min(after, 120) * scale, y + 15],
            fill=_RGB["red"] if after > limit else _RGB["green"],
        )
        lx = label_w + limit * scale
        draw.line([lx, y, lx, y + row_h], fill="black", width=2)
    img.save(path)
    return path
