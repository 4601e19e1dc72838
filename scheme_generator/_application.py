"""A connection application (用电申请) as the domain sees it, and its validation."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from grid_models import Rules, load_rules
from scheme_generator._errors import FieldProblem, InvalidApplicationError

CustomerType = Literal["resident", "non_resident"]
Business = Literal["new", "capacity_increase"]
Category = Literal[
    "general",
    "ev_charging",
    "irrigation_well",
    "base_station_5g",
    "temporary",
    "residential_estate",
]
EstateMetering = Literal["one_meter_per_household", "master_meter"]
Industry = Literal[
    "industrial",
    "commercial",
    "residential",
    "non_resident_lighting",
    "agriculture",
    "telecom_base_station",
    "petrol_station",
    "public_service",
]
Ownership = Literal["private", "state_owned_subsidiary", "chain_branch", "collective", "individual"]
ImportantLevel = Literal["special", "first", "second", "temporary"]
Objective = Literal["cheapest", "nearest"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "customer_type": get_args(CustomerType),
    "business": get_args(Business),
    "category": get_args(Category),
    "industry": get_args(Industry),
    "ownership": get_args(Ownership),
    "important_user_level": get_args(ImportantLevel),
    "objective": get_args(Objective),
    "estate_metering": get_args(EstateMetering),
}


@dataclass(frozen=True, slots=True)
class Application:
    """The fields of ``POST /api/v1/applications`` (contract), validated.

    ``via_agent`` (委托代理人办理) and ``subject_proof_only`` (容缺: only the subject proof at
    the counter) are gridcap's additions for the materials rules of annex 1. A residential
    estate (``category: residential_estate``) gives ``households`` and ``estate_metering``
    (一户一表 / 合表) and may give ``household_floor_area_m2``; important users may give their
    security load (保安负荷) as ``security_load_kva``.
    """

    customer_name: str
    customer_type: CustomerType
    business: Business
    category: Category
    industry: Industry
    ownership: Ownership
    lon_deg: float
    lat_deg: float
    capacity_kva: float
    application_date: dt.date
    phases: int = 3
    important_user_level: ImportantLevel | None = None
    in_provincial_park: bool | None = None
    electrification_share: float = 0.0
    proactive: bool = False
    batch: bool = False
    requests_hv: bool = False
    external_works: bool = True
    asset_handover: bool = False
    land_right_date: dt.date | None = None
    in_urban_planning_area: bool | None = None
    address_matches_licence: bool = False
    objective: Objective = "cheapest"
    via_agent: bool = False
    subject_proof_only: bool = False
    customer_works_date: dt.date | None = None
    households: int | None = None
    estate_metering: EstateMetering | None = None
    household_floor_area_m2: float | None = None
    security_load_kva: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The application in the contract's shape (``location: {lon, lat}``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, dt.date) else value
        out["location"] = {"lon": out.pop("lon_deg"), "lat": out.pop("lat_deg")}
        return out


_DEFAULTS: dict[str, Any] = {
    "category": "general",
    "industry": "commercial",
    "ownership": "private",
    "phases": 3,
    "important_user_level": None,
    "in_provincial_park": None,
    "electrification_share": 0.0,
    "proactive": False,
    "batch": False,
    "requests_hv": False,
    "external_works": True,
    "asset_handover": False,
    "land_right_date": None,
    "in_urban_planning_area": None,
    "address_matches_licence": False,
    "objective": "cheapest",
    "via_agent": False,
    "subject_proof_only": False,
    "customer_works_date": None,
    "households": None,
    "estate_metering": None,
    "household_floor_area_m2": None,
    "security_load_kva": None,
}
_REQUIRED = (
    "customer_name",
    "customer_type",
    "business",
    "location",
    "capacity_kva",
    "application_date",
)
_BOOLS = (
    "proactive",
    "batch",
    "requests_hv",
    "external_works",
    "asset_handover",
    "address_matches_licence",
    "via_agent",
    "subject_proof_only",
)
_OPTIONAL_BOOLS = ("in_provincial_park", "in_urban_planning_area")


def parse_application(
    raw: Mapping[str, Any], *, today: dt.date | None = None, rules: Rules | None = None
) -> Application:
    """Validate a plain mapping (JSON) into an :class:`Application`.

    Every problem is collected; :class:`InvalidApplicationError` lists each field and why.
    Dates must fall in the rules file's window (``input.dates``): around ``today`` for a
    new request (the service and the command line pass it), else the absolute window that
    keeps every working-day count bounded (an application stored long ago re-read)."""
    rules = rules or load_rules()
    problems: list[FieldProblem] = []

    def bad(field: str, reason: str) -> None:
        problems.append(FieldProblem(field, reason))

    if not isinstance(raw, Mapping):
        raise InvalidApplicationError([FieldProblem("", "the application must be an object")])
    data = {**_DEFAULTS, **raw}
    for name in _REQUIRED:
        if raw.get(name) is None:
            bad(name, "is required")
    known = set(_DEFAULTS) | set(_REQUIRED) | set(_CHOICES)
    for name in raw:
        if name not in known:
            bad(name, "is not a field of an application")
    for name, choices in _CHOICES.items():
        value = data.get(name)
        if value is None and name in ("important_user_level", "estate_metering"):
            continue
        if value is not None and value not in choices:
            bad(name, f"must be one of {', '.join(choices)}, not {value!r}")
    cust_name: Any = data.get("customer_name")
    if cust_name is not None and (not isinstance(cust_name, str) or not cust_name.strip()):
        bad("customer_name", "must be a non-empty text")
    cap: Any = data.get("capacity_kva")
    cap_min = float(rules.get("input.capacity_kva_min"))
    if cap is not None and (not _number(cap) or not cap_min <= float(cap) <= 1_000_000):
        bad("capacity_kva", f"must be a number from {cap_min:g} to 1 000 000 kVA")
    share: Any = data.get("electrification_share")
    if not _number(share) or not 0 <= float(share) <= 1:
        bad("electrification_share", "must be a fraction between 0 and 1")
    if data.get("phases") not in (1, 3):
        bad("phases", "must be 1 or 3")
    for b in _BOOLS:
        if not isinstance(data.get(b), bool):
            bad(b, "must be true or false")
    for b in _OPTIONAL_BOOLS:
        if data.get(b) is not None and not isinstance(data.get(b), bool):
            bad(b, "must be true, false or null")
    loc = data.get("location")
    lon = lat = math.nan
    if loc is not None:
        if (
            not isinstance(loc, Mapping)
            or not _number(loc.get("lon"))
            or not _number(loc.get("lat"))
        ):
            bad("location", 'must be {"lon": number, "lat": number}')
        else:
            lon, lat = float(loc["lon"]), float(loc["lat"])
            if not -180 <= lon <= 180:
                bad("location.lon", "must be between -180 and 180 degrees")
            if not -90 <= lat <= 90:
                bad("location.lat", "must be between -90 and 90 degrees")
    households: Any = data.get("households")
    if households is not None and (
        isinstance(households, bool) or not isinstance(households, int) or not households > 0
    ):
        bad("households", "must be a whole number of households above 0")
    if data.get("category") == "residential_estate" and households is None:
        bad("households", "is required for a residential estate")
    if data.get("category") == "residential_estate" and data.get("estate_metering") is None:
        data["estate_metering"] = "one_meter_per_household"
    area: Any = data.get("household_floor_area_m2")
    if area is not None and (not _number(area) or not 0 < float(area) <= 10_000):
        bad("household_floor_area_m2", "must be a floor area above 0 and at most 10 000 m²")
    security: Any = data.get("security_load_kva")
    if security is not None and (not _number(security) or not 0 < float(security) <= 1_000_000):
        bad("security_load_kva", "must be a number above 0 and at most 1 000 000 kVA")
    window = rules.get("input.dates") if today is not None else {}
    absolute = rules.get("input.dates_absolute")
    dates: dict[str, dt.date | None] = {}
    for name in ("application_date", "land_right_date", "customer_works_date"):
        spec = {**absolute, **window.get(name, {})} if today is not None else absolute
        dates[name] = _date(data.get(name), name, bad, spec, today or dt.date.today())
    app_date, land, works = (
        dates["application_date"],
        dates["land_right_date"],
        dates["customer_works_date"],
    )
    if (
        data.get("phases") == 1
        and _number(cap)
        and float(cap) > 10
        and "phases" not in {p.field for p in problems}
    ):
        bad("phases", "single phase is only for 10 kW or less")
    if problems:
        raise InvalidApplicationError(problems)
    assert app_date is not None
    return Application(
        customer_name=str(data["customer_name"]).strip(),
        customer_type=data["customer_type"],
        business=data["business"],
        category=data["category"],
        industry=data["industry"],
        ownership=data["ownership"],
        lon_deg=lon,
        lat_deg=lat,
        capacity_kva=float(cap),
        application_date=app_date,
        phases=int(data["phases"]),
        important_user_level=data["important_user_level"],
        in_provincial_park=data["in_provincial_park"],
        electrification_share=float(data["electrification_share"]),
        proactive=data["proactive"],
        batch=data["batch"],
        requests_hv=data["requests_hv"],
        external_works=data["external_works"],
        asset_handover=data["asset_handover"],
        land_right_date=land,
        in_urban_planning_area=data["in_urban_planning_area"],
        address_matches_licence=data["address_matches_licence"],
        objective=data["objective"],
        via_agent=data["via_agent"],
        subject_proof_only=data["subject_proof_only"],
        customer_works_date=works,
        households=households,
        estate_metering=data["estate_metering"],
        household_floor_area_m2=float(area) if area is not None else None,
        security_load_kva=float(security) if security is not None else None,
    )


def _number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _date(
    value: Any, field: str, bad: Any, window: Mapping[str, Any], today: dt.date
) -> dt.date | None:
    """The date, if it is one and inside ``window`` (see :func:`date_window`)."""
    if value is None:
        return None
    day: dt.date | None = None
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        bad(field, "must be a date written YYYY-MM-DD")
        return None
    low, high = date_window(window, today)
    if not low <= day <= high:
        bad(field, f"must be between {low.isoformat()} and {high.isoformat()}")
        return None
    return day


def date_window(spec: Mapping[str, Any], today: dt.date) -> tuple[dt.date, dt.date]:
    """The earliest and latest date a field may hold: a fixed ``min``/``max`` date or
    ``min_days``/``max_days`` from ``today`` (the tighter one where both are given);
    without either, what the calendar holds."""

    def bound(fixed: str, days: str, default: dt.date, tighter: Any) -> dt.date:
        found = []
        if spec.get(fixed) is not None:
            found.append(dt.date.fromisoformat(str(spec[fixed])))
        if spec.get(days) is not None:
            found.append(today + dt.timedelta(days=int(spec[days])))
        return tighter(found) if found else default

    return (
        bound("min", "min_days", dt.date.min, max),
        bound("max", "max_days", dt.date.max, min),
    )
