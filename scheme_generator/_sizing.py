"""Sizing the new line (导线选型): cross-section, circuits and voltage drop (domain §6).

The smallest permitted conductor (``scheme.conductors`` in the rules file) whose rating at
the peak season carries the load current, within the switchgear limit of one circuit, and
whose voltage drop keeps the customer terminal within its band; when one circuit cannot,
two or more in parallel where the point has the bays; beyond ``sizing.max_circuits`` the
load needs the next voltage level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from grid_models import LineType, Rules, load_catalogue


@dataclass(frozen=True, slots=True)
class LineDesign:
    """The new line: conductor, circuits, the current each carries and the drop it causes."""

    conductor: str
    kind: str  # cable | overhead
    cross_section_mm2: float
    rating_a: float  # per circuit, at the rating season, within the switchgear limit
    circuits: int
    current_a: float  # per circuit, at the maximum demand
    drop_percent: float  # along the new line, at the maximum demand
    cost_per_km_cny: float  # conductor, per circuit

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.conductor,
            "kind": self.kind,
            "cross_section_mm2": self.cross_section_mm2,
            "rating_a": round(self.rating_a, 1),
            "current_a": round(self.current_a, 1),
            "drop_percent": round(self.drop_percent, 2),
        }


@dataclass(frozen=True, slots=True)
class Sizer:
    """The permitted conductors of one level and kind, and the limits they are sized to."""

    level: str  # mv | lv
    kind: str
    voltage_kv: float
    phases: int
    power_factor: float
    types: tuple[tuple[LineType, float, float], ...]  # (type, rating A, cost per km)
    switchgear_a: float

    @classmethod
    def of(cls, rules: Rules, level: str, kind: str, voltage_kv: float, phases: int) -> Sizer:
        r = rules.get("scheme")
        cat = load_catalogue()
        season = str(r["sizing"]["rating_season"])
        factor = float(rules.get("capacity.seasonal_rating_factors").get(kind, {}).get(season, 1.0))
        types = sorted(
            (
                (cat.line_type(name), cat.line_type(name).max_i_ka * 1000.0 * factor, float(cost))
                for name, cost in r["conductors"][level][kind].items()
            ),
            key=lambda t: t[1],
        )
        return cls(
            level,
            kind,
            voltage_kv,
            phases,
            float(r["power_factor"]),
            tuple(types),
            float(r["sizing"]["switchgear_limit_a"][level]),
        )

    @property
    def max_circuit_a(self) -> float:
        """What one circuit can carry at most: the largest conductor or the switchgear."""
        return min(self.types[-1][1], self.switchgear_a) if self.types else 0.0

    def current_a(self, kva: float) -> float:
        """Load current of ``kva`` at this level (three-phase, or single-phase 220 V)."""
        if self.phases == 1:
            return kva / self.voltage_kv
        return kva / (math.sqrt(3.0) * self.voltage_kv)

    def circuits_needed(self, kva: float) -> int:
        per = self.max_circuit_a
        return max(1, math.ceil(self.current_a(kva) / per - 1e-9)) if per > 0 else 0

    def design(
        self, kva: float, length_m: float, drop_budget_percent: float, max_circuits: int
    ) -> LineDesign | None:
        """The cheapest design within the drop budget using at most ``max_circuits``."""
        total = self.current_a(kva)
        km = length_m / 1000.0
        p_mw = kva * self.power_factor / 1000.0
        q_mvar = kva * math.sqrt(max(0.0, 1.0 - self.power_factor**2)) / 1000.0
        # a single-phase line has a return conductor: twice the impedance, phase voltage
        loop, u = (2.0, self.voltage_kv) if self.phases == 1 else (1.0, self.voltage_kv)
        for n in range(max(1, self.circuits_needed(kva)), max_circuits + 1):
            per = total / n
            for lt, rating, cost in self.types:
                usable = min(rating, self.switchgear_a)
                if usable + 1e-9 < per:
                    continue
                r_ohm = loop * lt.r_ohm_per_km * km / n
                x_ohm = loop * lt.x_ohm_per_km * km / n
                drop = (p_mw * r_ohm + q_mvar * x_ohm) / (u * u) * 100.0
                if drop <= drop_budget_percent + 1e-9:
                    return LineDesign(
                        lt.name, self.kind, lt.cross_section_mm2, usable, n, per, drop, cost
                    )
        return None
