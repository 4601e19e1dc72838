"""Published business rules (公开办电信息): every business type with its steps, time
limits, materials, archive, fees and investment boundary — produced by the same policy
code the scheme generator runs, so the two can never disagree."""

from __future__ import annotations

from typing import Any

from grid_models import Rules, load_rules
from scheme_generator._application import parse_application
from scheme_generator._policy import decide
from scheme_generator._reply_sheet import BOUNDARY, MATERIAL, STEP

STEP_EN = {
    "application": "application",
    "scheme_reply": "scheme reply",
    "external_works": "customer's external works",
    "metering_connection": "metering and connection",
}
MATERIAL_EN = {
    "identity_proof": "identity proof",
    "subject_proof": "subject proof (business licence etc.)",
    "property_proof": "property proof",
    "government_approval": "government approval",
    "address_list": "address list (stamped)",
    "authorisation_letter": "authorisation letter",
    "agent_identity_proof": "agent's identity proof",
    "voluntary_hv_proof": "written request for HV supply (small-micro)",
}
BOUNDARY_EN = {
    "red_line": "grid invests to the customer's red line",
    "connection_point": "grid invests to the public connection point",
    "meter_box": "grid invests up to and including the meter box",
}

_BASE = {
    "customer_name": "示例",
    "business": "new",
    "location": {"lon": 0.0, "lat": 0.0},
    "application_date": "2026-03-02",
    "customer_type": "non_resident",
    "industry": "commercial",
    "ownership": "private",
}

# business type → (中文, English, the application that stands for it)
BUSINESS_TYPES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "lv_resident": (
        "低压居民新装",
        "LV resident, new",
        {
            "customer_type": "resident",
            "industry": "residential",
            "ownership": "individual",
            "capacity_kva": 8,
            "phases": 1,
            "external_works": False,
        },
    ),
    "lv_small_micro": ("低压小微企业新装", "LV small-micro enterprise, new", {"capacity_kva": 50}),
    "lv_small_micro_proactive": (
        "低压小微企业主动办电",
        "LV small-micro, proactive",
        {"capacity_kva": 50, "proactive": True},
    ),
    "lv_non_resident": (
        "低压非居民新装",
        "LV non-resident, new",
        {"capacity_kva": 80, "ownership": "chain_branch"},
    ),
    "well_individual": (
        "机井（个人所有）",
        "irrigation well, individual",
        {
            "customer_type": "resident",
            "category": "irrigation_well",
            "industry": "agriculture",
            "ownership": "individual",
            "capacity_kva": 20,
        },
    ),
    "well_collective": (
        "机井（集体所有）",
        "irrigation well, collective",
        {
            "category": "irrigation_well",
            "industry": "agriculture",
            "ownership": "collective",
            "capacity_kva": 30,
        },
    ),
    "charger_resident": (
        "居民个人低压充电设施",
        "resident EV charger",
        {
            "customer_type": "resident",
            "category": "ev_charging",
            "industry": "residential",
            "ownership": "individual",
            "capacity_kva": 7,
            "phases": 1,
        },
    ),
    "charger_non_resident": (
        "非居民充电设施",
        "non-resident EV charging",
        {"category": "ev_charging", "capacity_kva": 80, "ownership": "chain_branch"},
    ),
    "base_station_5g": (
        "5G基站",
        "5G base station",
        {"category": "base_station_5g", "industry": "telecom_base_station", "capacity_kva": 20},
    ),
    "hv_general": ("高压新装、增容", "HV new or capacity increase", {"capacity_kva": 630}),
    "hv_proactive": ("高压主动办电", "HV, proactive", {"capacity_kva": 630, "proactive": True}),
    "hv_park_red_line": (
        "省级园区高压工商业（投资至红线）",
        "HV in a provincial park (red line)",
        {"capacity_kva": 630, "industry": "industrial", "in_provincial_park": True},
    ),
    "hv_important": (
        "重要电力用户",
        "important user (first level)",
        {"capacity_kva": 2000, "important_user_level": "first"},
    ),
    "small_micro_hv": (
        "小微企业自愿高压接入",
        "small-micro enterprise asking for HV",
        {"capacity_kva": 150, "industry": "industrial", "requests_hv": True},
    ),
    "temporary": (
        "临时用电（可租赁变压器）",
        "temporary supply (transformer leasing offered)",
        {"capacity_kva": 315, "category": "temporary", "industry": "industrial"},
    ),
    "estate_one_meter_per_household": (
        "居民住宅小区（一户一表）",
        "residential estate, one meter per household",
        {
            "capacity_kva": 2000,
            "category": "residential_estate",
            "industry": "residential",
            "households": 400,
            "estate_metering": "one_meter_per_household",
        },
    ),
    "estate_master_meter": (
        "居民住宅小区（合表）",
        "residential estate, master meter",
        {
            "capacity_kva": 1000,
            "category": "residential_estate",
            "industry": "residential",
            "households": 200,
            "estate_metering": "master_meter",
        },
    ),
}


def business_rules(rules: Rules | None = None) -> list[dict[str, Any]]:
    rules = rules or load_rules()
    out = []
    for code, (zh, en, fields) in BUSINESS_TYPES.items():
        raw = {**_BASE, "in_provincial_park": False, "in_urban_planning_area": False, **fields}
        d = decide(parse_application(raw), rules=rules)
        out.append(
            {
                "business_type": code,
                "label_zh": zh,
                "label_en": en,
                "customer_class": d.customer_class,
                "steps": [{"code": s, "zh": STEP[s], "en": STEP_EN[s]} for s in d.steps],
                "inspections": list(d.inspections),
                "time_limit_workdays": {
                    "without_supporting_project": d.time_limit_workdays(False, rules),
                    "with_supporting_project": d.time_limit_workdays(True, rules),
                },
                "materials": [
                    {"code": m, "zh": MATERIAL[m], "en": MATERIAL_EN[m]} for m in d.materials
                ],
                "archive": list(d.archive),
                "fees": list(d.fees) or [],
                "investment_boundary": {
                    "code": d.investment_boundary,
                    "zh": BOUNDARY[d.investment_boundary],
                    "en": BOUNDARY_EN[d.investment_boundary],
                },
            }
        )
    return out


def published_rules(rules: Rules | None = None) -> dict[str, Any]:
    """Everything the seed asks to be published, from the rules file in force."""
    rules = rules or load_rules()
    scheme = rules.get("scheme")
    return {
        "rules_version": rules.version,
        "business_types": business_rules(rules),
        "fees": {
            "zh": "不收取任何办电服务费；仅按政府规定收取高可靠性供电费",
            "en": "no service fees; only the government-set high-reliability fee",
            "high_reliability_fee": {
                "zh": "双电源及以上（含备用、保安电源）客户，除容量最大的一路外，"
                "其余供电回路按容量收取（发改价格〔2003〕2279号）",
                "cny_per_kva": scheme["fees"]["high_reliability_fee_cny_per_kva"],
                "estimate": True,
            },
        },
        "temporary_supply": scheme["temporary"],
        "metering_rules": rules.get("terms.metering"),
        "tariff_rules": rules.get("terms.tariff"),
        "investment_boundary_rules": scheme["red_line"],
        "time_limits_workdays": scheme["time_limits_workdays"],
        "small_micro": scheme["small_micro"],
        "reliability_targets_hours": rules.get("reliability.target_outage_hours"),
    }
