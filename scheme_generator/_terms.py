"""The terms of supply a scheme states (domain §7): the customer's receiving installation,
metering (计量方案), tariff (计费方案), the high-reliability fee per option and, for
temporary supply, the use period and transformer leasing.

Every figure is the rules file's (``terms``, ``scheme.fees``, ``scheme.temporary``) with
its source; the functions here only apply them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from grid_models import Rules
from scheme_generator._application import Application

TariffCategory = Literal["residential", "agriculture", "industrial_commercial"]
MeteringMethod = Literal["hv_hv", "hv_lv", "lv_lv"]

TARIFF_NAMES: dict[str, str] = {
    "residential": "居民生活用电",
    "agriculture": "农业生产用电",
    "industrial_commercial": "工商业用电",
}
METHOD_NAMES: dict[str, str] = {"hv_hv": "高供高计", "hv_lv": "高供低计", "lv_lv": "低供低计"}


def tariff_category(app: Application, rules: Rules) -> TariffCategory:
    """电价类别 by what the customer does [std, 发改价格〔2021〕1439号]."""
    r = rules.get("terms.tariff")
    if (
        app.customer_type == "resident"
        or app.industry in r["residential_industries"]
        or app.category in r["residential_categories"]
    ):
        return "residential"
    if app.industry in r["agriculture_industries"] or app.category in r["agriculture_categories"]:
        return "agriculture"
    return "industrial_commercial"


def receiving(app: Application, hv: bool, rules: Rules) -> dict[str, Any] | None:
    """受电装置 of an HV customer: the applied capacity as standard transformer units — one
    up to the single-unit limit, else the fewest equal units of one standard size that
    reach it. None at LV (the customer has no transformer)."""
    if not hv:
        return None
    r = rules.get("terms.receiving")
    sizes = sorted(float(s) for s in r["transformer_sizes_kva"])
    single_max = float(r["single_transformer_max_kva"])
    need = app.capacity_kva
    count = max(1, math.ceil(need / single_max - 1e-9))
    per_unit = need / count
    size = next((s for s in sizes if s >= per_unit - 1e-6), sizes[-1])
    while size * count < need - 1e-6:  # the largest size is not enough: one more unit
        count += 1
        size = next((s for s in sizes if s >= need / count - 1e-6), sizes[-1])
    # 一户一表 estates: the transformers are public, built by the utility [seed 三(三)1]
    public = app.category == "residential_estate" and app.estate_metering != "master_meter"
    return {
        "owner": "utility" if public else "customer",
        "transformers": [{"count": count, "kva": size}],
        "total_kva": size * count,
        "basis": f"报装容量 {need:g} kVA：{count} 台 × {size:g} kVA 标准容量变压器",
    }


def metering(
    app: Application,
    supply_kv: float,
    phases: int,
    demand_kva: float,
    installation: Mapping[str, Any] | None,
    rules: Rules,
) -> dict[str, Any]:
    """计量方案 at the demarcation point: method, meter class and accuracy, CT/VT and the
    collection terminal [std, DL/T 448-2016; practice]."""
    r = rules.get("terms.metering")
    hv = supply_kv >= 1.0
    if app.category == "residential_estate" and app.estate_metering != "master_meter":
        return _household_meters(app, r, hv)
    units = (installation or {}).get("transformers", [])
    n_units = sum(int(u["count"]) for u in units)
    total = float((installation or {}).get("total_kva", app.capacity_kva))
    method: MeteringMethod
    if not hv:
        method = "lv_lv"
    elif n_units == 1 and total < float(r["hv_lv_below_kva"]):
        method = "hv_lv"
    else:
        method = "hv_hv"
    metered_kv = supply_kv if method == "hv_hv" else (0.22 if phases == 1 else 0.38)
    if phases == 1 and not hv:
        cls = dict(r["single_phase"])
    else:
        size = total if hv else app.capacity_kva
        cls = next(dict(c) for c in r["classes"] if size >= float(c["min_kva"]))
    current = _current_a(demand_kva, metered_kv, 1 if (phases == 1 and not hv) else 3)
    ct = None
    vt = None
    if method == "lv_lv" and current <= float(r["lv_direct_max_a"]):
        connection = "direct"
    else:
        connection = "transformer_operated"
        primary = _ct_primary(current, r)
        ct = {
            "ratio": f"{primary:g}/{r['ct_secondary_a']:g} A",
            "primary_a": primary,
            "accuracy": cls["ct"],
            "loading_at_demand": round(current / primary, 2),
            # below the standard's minimum even on the smallest rating: an S-class CT
            "below_min_loading": current / primary < float(r["ct_min_loading"]),
        }
    if method == "hv_hv":
        vt = {
            "ratio": f"{supply_kv * 1000:g}/{r['vt_secondary_v']:g} V",
            "accuracy": cls["vt"],
        }
    wiring = (
        "single_phase"
        if phases == 1 and not hv
        else ("three_phase_three_wire" if method == "hv_hv" else "three_phase_four_wire")
    )
    return {
        "method": method,
        "method_name": METHOD_NAMES[method],
        "point": "demarcation_point" if method != "hv_lv" else "transformer_lv_side",
        "metering_class": cls["class"],
        "meter": {
            "type": "smart_meter",
            "wiring": wiring,
            "active_accuracy": cls["meter"],
            "connection": connection,
        },
        "ct": ct,
        "vt": vt,
        "current_at_demand_a": round(current, 1),
        "terminal": r["terminal"]["hv" if hv else "lv"],
    }


def tariff(app: Application, hv: bool, installation_kva: float, rules: Rules) -> dict[str, Any]:
    """计费方案: category, two-part tariff and the power-factor standard with the reactive
    compensation it asks for [std, 发改价格〔2021〕1439号; 功率因数调整电费办法 1983]."""
    r = rules.get("terms.tariff")
    category = tariff_category(app, rules)
    size = installation_kva if hv else app.capacity_kva
    commercial = category == "industrial_commercial"
    two_part = commercial and size >= float(r["two_part_min_kva"])
    optional = commercial and not two_part and size >= float(r["two_part_optional_min_kva"])
    standard = None
    for rule in r["power_factor"]:
        if rule["hv_only"] and not hv:
            continue
        if category not in rule["classes"]:
            continue
        if rule["industries"] is not None and app.industry not in rule["industries"]:
            continue
        if size >= float(rule["min_kva"]):
            standard = float(rule["standard"])
            break
    low, high = (float(x) for x in r["compensation_share"])
    compensation = None
    if standard is not None and hv:
        compensation = {
            "required": True,
            "kvar_min": round(low * size),
            "kvar_max": round(high * size),
            "switching": "automatic",
            "where": "配电变压器低压侧",
        }
    return {
        "category": category,
        "category_name": TARIFF_NAMES[category],
        "two_part": two_part,
        "two_part_optional": optional,
        "basic_charge_basis": "transformer_capacity_or_maximum_demand" if two_part else None,
        "power_factor_standard": standard,
        "reactive_compensation": compensation,
    }


def high_reliability_fee(
    sources: Sequence[Mapping[str, Any]], supply_kv: float, rules: Rules
) -> dict[str, Any] | None:
    """高可靠性供电费 of one option [std, 发改价格〔2003〕2279号]: on every circuit but the
    largest, its kVA × the provincial rate for its voltage and construction. None for a
    single circuit."""
    circuits = [s for s in sources if float(s.get("carries_kva") or 0.0) > 0]
    if len(circuits) < 2:
        return None
    table = rules.get("scheme.fees.high_reliability_fee_cny_per_kva")
    key = _voltage_key(supply_kv, table)
    largest = max(range(len(circuits)), key=lambda k: float(circuits[k]["carries_kva"]))
    charged: list[dict[str, Any]] = []
    for k, s in enumerate(circuits):
        if k == largest:
            continue
        construction = "cable" if s.get("line_type") == "cable" else "overhead"
        rate = float(table[key][construction])
        kva = float(s["carries_kva"])
        charged.append(
            {
                "connection_point_id": s.get("connection_point_id"),
                "role": s.get("role"),
                "kva": round(kva, 1),
                "construction": construction,
                "rate_cny_per_kva": rate,
                "amount_cny": round(kva * rate, 2),
            }
        )
    return {
        "code": "high_reliability_fee",
        "circuits": charged,
        "amount_cny": round(sum(float(c["amount_cny"]) for c in charged), 2),
        "basis": "发改价格〔2003〕2279号：除容量最大的一路外，其余供电回路按容量收取",
        "estimate": True,
    }


def temporary_terms(app: Application, demand_kva: float, rules: Rules) -> dict[str, Any] | None:
    """Temporary supply: the use period (separate from the scheme's validity) and
    transformer leasing packages beside buying [seed 三(三)3; std, 供电营业规则]."""
    if app.category != "temporary":
        return None
    r = rules.get("scheme.temporary")
    monthly = float(r["lease_monthly_cny_per_kva"])
    months = int(r["lease_deposit_months"])
    install = {float(k): float(v) for k, v in r["lease_installation_cny"].items()}
    sizes = [float(s) for s in r["lease_sizes_kva"] if float(s) >= demand_kva - 1e-6][:2]
    leases = []
    for size in sizes:
        rent = size * monthly
        leases.append(
            {
                "transformer_kva": size,
                "monthly_rent_cny": round(rent, 2),
                "deposit_cny": round(rent * months, 2),
                "installation_cny": next(
                    (v for k, v in sorted(install.items()) if size <= k), max(install.values())
                ),
                "rent_for_use_period_cny": round(rent * int(r["use_period_months"]), 2),
                "estimate": True,
            }
        )
    return {
        "use_period_months": int(r["use_period_months"]),
        "extension": "期满需继续用电的，应在期满前办理延期或转为正式用电",
        "transformer_lease": leases,
        "lease_note": None if leases else "需求超过可租赁变压器规格，请按正式受电工程建设",
    }


def _household_meters(app: Application, r: Mapping[str, Any], hv: bool) -> dict[str, Any]:
    """一户一表: a single-phase meter for every household, the utility's up to them."""
    cls = dict(r["single_phase"])
    return {
        "method": "lv_lv",
        "method_name": "低供低计（一户一表）",
        "point": "household_meters",
        "households": app.households,
        "metering_class": cls["class"],
        "meter": {
            "type": "smart_meter",
            "wiring": "single_phase",
            "active_accuracy": cls["meter"],
            "connection": "direct",
        },
        "ct": None,
        "vt": None,
        "current_at_demand_a": None,
        "terminal": r["terminal"]["lv"],
        "supply_side": "公用配电变压器（供电公司投资）" if hv else None,
    }


def _current_a(kva: float, kv: float, phases: int) -> float:
    if phases == 1:
        return kva * 1000.0 / (kv * 1000.0)
    return kva / (math.sqrt(3) * kv)


def _ct_primary(current: float, r: Mapping[str, Any]) -> float:
    """The smallest standard rated primary current at which the demand current is at most
    ``ct_target_loading`` of it (DL/T 448: about 60 %, never below 30 %)."""
    target = float(r["ct_target_loading"])
    ratings = sorted(float(a) for a in r["ct_primary_a"])
    return next((a for a in ratings if current <= target * a + 1e-9), ratings[-1])


def _voltage_key(kv: float, table: Mapping[str, Any]) -> str:
    keys = sorted(table, key=float)
    return min(keys, key=lambda k: abs(float(k) - kv))
