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
    # 一户一表 estates: the developer builds the estate's network and hands it over free
    # once accepted (then public, the utility's) [seed 三(三)1]
    handover = app.category == "residential_estate" and app.estate_metering != "master_meter"
    return {
        "owner": "customer",
        "handover_to_utility": handover,
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
    sources: Sequence[Mapping[str, Any]],
    supply_kv: float,
    applied_kva: float,
    demand_kva: float,
    rules: Rules,
) -> dict[str, Any] | None:
    """高可靠性供电费 of one option [std, 发改价格〔2003〕2279号]: on every circuit but the
    largest, its supply capacity (供电容量: the applied capacity in the share of the demand
    the circuit carries — a full backup is charged on the whole applied capacity) × the
    provincial rate for its voltage and construction. None for a single circuit."""
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
        share = float(s["carries_kva"]) / demand_kva if demand_kva > 0 else 1.0
        kva = applied_kva * min(1.0, share)
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
        "supply_side": "小区配电设施由客户建设，验收合格后无偿移交供电公司" if hv else None,
    }


def _current_a(kva: float, kv: float, phases: int) -> float:
    if phases == 1:
        return kva * 1000.0 / (kv * 1000.0)
    return kva / (math.sqrt(3) * kv)


def _ct_primary(current: float, r: Mapping[str, Any]) -> float:
    """The standard rated primary current at which the demand current comes nearest
    ``ct_target_loading`` of it without falling below ``ct_min_loading`` or above the
    rating (DL/T 448: about 60 %, never below 30 %); the larger on a tie."""
    target, low = float(r["ct_target_loading"]), float(r["ct_min_loading"])
    ratings = sorted(float(a) for a in r["ct_primary_a"])
    fitting = [a for a in ratings if low <= current / a <= 1.0]
    if not fitting:  # beyond the table, or so small that even 5 A is under 30 %
        return next((a for a in ratings if current <= a), ratings[-1])
    return min(fitting, key=lambda a: (abs(current / a - target), -a))


def _voltage_key(kv: float, table: Mapping[str, Any]) -> str:
    keys = sorted(table, key=float)
    return min(keys, key=lambda k: abs(float(k) - kv))


def source_nature(role: str, sources_required: int, level: str | None) -> dict[str, Any]:
    """电源性质 of one source: main or backup; a backup of a special or first level user
    is a hot standby with automatic changeover, else cold; sources interlocked, never
    paralleled on the customer's side [practice: GB/T 29328-2018 as domain §4 quotes]."""
    if sources_required < 2:
        return {"role": "main", "standby": None, "interlock": None, "text": "单电源供电"}
    if role == "main":
        return {
            "role": "main",
            "standby": None,
            "interlock": "interlocked_not_paralleled",
            "text": "主供电源",
        }
    hot = level in ("special", "first")
    return {
        "role": "backup",
        "standby": "hot" if hot else "cold",
        "interlock": "interlocked_not_paralleled",
        "text": ("备用电源（热备用，自动切换）" if hot else "备用电源（冷备用，手动切换）")
        + "，与主供电源闭锁、不并列运行",
    }


#: 继电保护及分界开关 by where the customer connects [practice: State Grid 配网 guidance]
PROTECTION: dict[str, str] = {
    "pole": "架空线路T接处加装智能分界开关（看门狗），具备相间短路与单相接地故障隔离功能",
    "ring_main_unit": "环网柜出线间隔配置断路器（或负荷开关-熔断器组合电器），保护与上级配合",
    "switching_station": "开关站出线间隔断路器配置过流、速断保护，与上级保护配合",
    "substation_bay": "变电站出线间隔断路器配置过流、速断保护；客户进线断路器保护与之配合",
    "new_feeder_end": "新建线路末端配置断路器保护，与变电站出线保护配合",
    "lv_branch_box": "低压分支箱出线配置断路器，客户表箱内配置剩余电流动作保护器",
}


def protection(kinds: Sequence[str], hv: bool) -> dict[str, Any]:
    """Protection at the demarcation point and the customer's incoming switchgear."""
    at_point = [PROTECTION.get(k, PROTECTION["substation_bay"]) for k in dict.fromkeys(kinds)]
    customer = (
        "客户受电装置进线设断路器，配置过流、速断保护；保护定值由供电公司下达"
        if hv
        else "客户进户开关设断路器，表箱内配置剩余电流动作保护器"
    )
    return {"demarcation_switch": at_point, "customer_incoming": customer}


def power_quality(app: Application, hv: bool) -> list[dict[str, str]]:
    """电能质量 duties for non-linear and impact loads [std, GB/T 14549, GB/T 12326]."""
    duties: list[dict[str, str]] = []
    if app.category == "ev_charging":
        duties.append(
            {
                "load": "充电设施（非线性负荷）",
                "duty": "配置有源滤波等谐波治理装置，注入公共连接点的谐波电流满足 GB/T 14549，"
                "接入前提交电能质量评估报告",
                "standard": "GB/T 14549",
            }
        )
    if hv and app.industry == "industrial":
        duties.append(
            {
                "load": "冲击性、非线性负荷（电弧炉、中频炉、大型变频设备等）",
                "duty": "如有上述负荷，接入前提交电能质量评估报告；谐波满足 GB/T 14549，"
                "电压波动和闪变满足 GB/T 12326，超标时自行治理",
                "standard": "GB/T 14549, GB/T 12326",
            }
        )
    return duties


def dispatch(hv: bool, dedicated_line: bool, supply_kv: float) -> dict[str, Any]:
    """调度关系: a dedicated line or a supply at 35 kV and above is dispatched by the
    utility's control centre under a dispatch agreement [practice]."""
    needed = hv and (dedicated_line or supply_kv >= 35.0)
    return {
        "agreement_required": needed,
        "text": "客户受电工程投运前与供电公司签订调度协议，由地（县）调调度管理"
        if needed
        else "不涉及调度协议，按配电网运行管理规定执行",
    }


def maintenance(boundary: str) -> str:
    """运行维护责任: each side of the demarcation point to its owner [std, 供电营业规则]."""
    where = {"meter_box": "电能表出线端", "red_line": "红线外第一断路器或第一支持物"}.get(
        boundary, "公共电网接入点"
    )
    return f"以产权分界点（{where}）为界：电源侧设施由供电公司运行维护，负荷侧设施由客户运行维护"
