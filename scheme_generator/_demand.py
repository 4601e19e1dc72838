"""Maximum demand (需用负荷): what capacity checks and reservations use (domain §6).

The applied capacity (报装容量) is installed kVA; the grid sees the customer's maximum
demand: applied kVA × the demand factor (需要系数) of its load class, or for a residential
estate households × kW per household × the coincidence factor (同时系数). Every number
comes from ``scheme.demand`` in the rules file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grid_models import Rules
from scheme_generator._application import Application


@dataclass(frozen=True, slots=True)
class Demand:
    """The applied and the maximum-demand figures, and how the second was reached."""

    applied_kva: float
    demand_kva: float
    factor: float
    basis: str  # demand_factor:<class> | estate_formula
    households: int | None = None
    kw_per_household: float | None = None
    coincidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "applied_kva": round(self.applied_kva, 1),
            "demand_kva": round(self.demand_kva, 1),
            "factor": round(self.factor, 3),
            "basis": self.basis,
        }
        if self.households is not None:
            out |= {
                "households": self.households,
                "kw_per_household": self.kw_per_household,
                "coincidence": self.coincidence,
            }
        return out


def demand_of(app: Application, rules: Rules) -> Demand:
    """The customer's maximum demand under the rules in force."""
    r = rules.get("scheme.demand")
    if app.category == "residential_estate" and app.households:
        return _estate(app, r["estate"], float(rules.get("scheme.power_factor")))
    by_category = r["factor_by_category"]
    if app.category in by_category:
        factor, basis = float(by_category[app.category]), f"demand_factor:{app.category}"
    else:
        factor, basis = (
            float(r["factor_by_industry"][app.industry]),
            f"demand_factor:{app.industry}",
        )
    return Demand(app.capacity_kva, app.capacity_kva * factor, factor, basis)


def _estate(app: Application, r: dict[str, Any], power_factor: float) -> Demand:
    """Households × kW per household (by floor area) × coincidence (by household count)."""
    households = int(app.households or 0)
    area = app.household_floor_area_m2 or float(r["default_floor_area_m2"])
    kw = _bracket(r["kw_per_household"], "floor_area_max_m2", area, "kw")
    k = _bracket(r["coincidence"], "households_max", households, "factor")
    demand = households * kw * k / power_factor
    factor = demand / app.capacity_kva if app.capacity_kva else 0.0
    return Demand(app.capacity_kva, demand, factor, "estate_formula", households, kw, k)


def _bracket(table: list[dict[str, Any]], key: str, value: float, out: str) -> float:
    for row in table:
        if row[key] is None or value <= float(row[key]):
            return float(row[out])
    return float(table[-1][out])
