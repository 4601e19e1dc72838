"""Typical-day load profiles (96 × 15 min) for the generated networks.

The shapes are **[estimate]**s drawn from general knowledge of northern-Chinese (Henan)
load curves, not from metered data; replace them with a utility's own typical days when
available:

- residential: low at night, morning bump at 07:00, evening peak 20:00–21:00; the annual
  peak is the summer evening (air conditioning), winter evenings reach ≈ 0.9 of it;
- commercial: daytime plateau 09:00–21:00, summer afternoon peak (cooling) at ≈ 14:00,
  winter ≈ 0.85 of summer;
- industrial: two shifts (08:00–24:00) nearly flat at 0.9–1.0 with a lunch dip, night
  ≈ 0.5; winter ≈ 0.95 of summer;
- agriculture: summer daytime irrigation (06:00–19:00) sets the annual peak; winter only
  greenhouses and processing, ≈ 0.35 at most;
- public_service (schools, hospitals, offices, street lighting): daytime office hours with
  a small evening lighting shoulder; winter ≈ 0.9 of summer.

Each class is in per unit of its annual peak: the maximum over both seasons is 1.0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEASONS = ("summer", "winter")
LOAD_CLASSES = ("residential", "commercial", "industrial", "agriculture", "public_service")

# Hourly values at hh:00, linearly interpolated (periodically) to 15-minute steps.
_HOURLY: dict[tuple[str, str], tuple[float, ...]] = {
    ("summer", "residential"): (
        0.45, 0.40, 0.37, 0.35, 0.35, 0.38, 0.48, 0.55, 0.52, 0.50, 0.52, 0.58,
        0.62, 0.60, 0.58, 0.58, 0.62, 0.72, 0.85, 0.95, 1.00, 0.98, 0.85, 0.62,
    ),
    ("winter", "residential"): (
        0.40, 0.36, 0.34, 0.33, 0.34, 0.38, 0.50, 0.62, 0.58, 0.52, 0.50, 0.55,
        0.58, 0.54, 0.50, 0.50, 0.56, 0.75, 0.88, 0.90, 0.86, 0.78, 0.65, 0.50,
    ),
    ("summer", "commercial"): (
        0.25, 0.22, 0.21, 0.20, 0.20, 0.22, 0.28, 0.40, 0.65, 0.85, 0.93, 0.97,
        0.95, 0.98, 1.00, 0.98, 0.95, 0.92, 0.88, 0.85, 0.80, 0.65, 0.45, 0.32,
    ),
    ("winter", "commercial"): (
        0.22, 0.20, 0.19, 0.18, 0.18, 0.20, 0.25, 0.36, 0.58, 0.74, 0.80, 0.82,
        0.80, 0.80, 0.80, 0.80, 0.80, 0.82, 0.84, 0.82, 0.76, 0.60, 0.40, 0.28,
    ),
    ("summer", "industrial"): (
        0.55, 0.52, 0.50, 0.50, 0.50, 0.52, 0.60, 0.80, 0.95, 0.98, 1.00, 0.98,
        0.85, 0.92, 0.98, 1.00, 0.98, 0.96, 0.92, 0.92, 0.94, 0.93, 0.90, 0.70,
    ),
    ("winter", "industrial"): (
        0.52, 0.50, 0.48, 0.48, 0.48, 0.50, 0.58, 0.77, 0.91, 0.94, 0.95, 0.93,
        0.81, 0.88, 0.93, 0.95, 0.93, 0.92, 0.88, 0.88, 0.90, 0.88, 0.85, 0.66,
    ),
    ("summer", "agriculture"): (
        0.20, 0.18, 0.18, 0.18, 0.20, 0.35, 0.65, 0.85, 0.95, 1.00, 1.00, 0.98,
        0.90, 0.92, 0.98, 1.00, 0.97, 0.90, 0.75, 0.50, 0.35, 0.28, 0.24, 0.22,
    ),
    ("winter", "agriculture"): (
        0.15, 0.14, 0.14, 0.14, 0.15, 0.18, 0.22, 0.28, 0.32, 0.35, 0.35, 0.34,
        0.32, 0.33, 0.34, 0.34, 0.32, 0.30, 0.28, 0.25, 0.22, 0.20, 0.18, 0.16,
    ),
    ("summer", "public_service"): (
        0.35, 0.33, 0.32, 0.32, 0.32, 0.35, 0.45, 0.65, 0.85, 0.95, 0.98, 1.00,
        0.92, 0.90, 0.96, 0.98, 0.95, 0.85, 0.70, 0.62, 0.58, 0.52, 0.45, 0.40,
    ),
    ("winter", "public_service"): (
        0.36, 0.34, 0.33, 0.33, 0.33, 0.36, 0.46, 0.62, 0.80, 0.88, 0.90, 0.90,
        0.82, 0.82, 0.86, 0.88, 0.85, 0.80, 0.70, 0.64, 0.60, 0.54, 0.46, 0.40,
    ),
}  # fmt: skip


def typical_day_profiles() -> pd.DataFrame:
    """96 rows (15-minute steps from 00:00), columns ``season/class``, per unit of the
    class's annual peak."""
    hours = np.arange(24, dtype=float)
    steps = np.arange(96, dtype=float) / 4.0
    data: dict[str, np.ndarray] = {}
    for cls in LOAD_CLASSES:
        curves = {}
        for season in SEASONS:
            hourly = np.asarray(_HOURLY[(season, cls)], dtype=float)
            curves[season] = np.interp(steps, hours, hourly, period=24.0)
        peak = max(float(c.max()) for c in curves.values())
        for season in SEASONS:
            data[f"{season}/{cls}"] = np.round(curves[season] / peak, 6)
    columns = [f"{s}/{c}" for s in SEASONS for c in LOAD_CLASSES]
    return pd.DataFrame({c: data[c] for c in columns}, index=pd.RangeIndex(96))
