"""Capacity advisor (容量测算): from a customer's list of loads to what to apply for.

The seed (三(三)3, 在线成本咨询) asks the utility to help a customer choose the applied
capacity (报装容量) and standard equipment online. The demand-factor method (需要系数法):
each load class's installed kW × its demand factor (需要系数), the classes' sum × the
coincidence factor (同时系数), ÷ the power factor for kVA. The voltage follows
``scheme.supply_voltage`` as the scheme applies it to the applied figure: at low voltage
the applied capacity is the demand in whole kW; at 10 kV it is the sum of the customer's
transformers (变压器容量之和), the standard sizes of ``terms.receiving`` loaded to at most
``advisor.transformer_target_loading``. Every factor is the rules file's (``advisor``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from grid_models import Rules, load_catalogue, load_rules
from scheme_generator._errors import FieldProblem, InvalidApplicationError

LoadClass = Literal[
    "lighting",
    "motors",
    "air_conditioning",
    "heating",
    "kitchen",
    "it_equipment",
    "ev_charger",
    "other",
]
LOAD_CLASSES: tuple[str, ...] = get_args(LoadClass)
LOAD_CLASS_NAMES: dict[str, str] = {
    "lighting": "照明",
    "motors": "电动机（水泵、风机、空压机等）",
    "air_conditioning": "空调",
    "heating": "电加热（电采暖、电热水器等）",
    "kitchen": "厨房电器",
    "it_equipment": "电脑及信息设备",
    "ev_charger": "电动汽车充电桩",
    "other": "其他用电设备",
}
# bounds of one request: what a person can list, not policy
MAX_LOADS = 200
MAX_LOAD_KW = 100_000.0
MAX_COUNT = 10_000


@dataclass(frozen=True, slots=True)
class ClassDemand:
    """One load class: installed kW (装机容量), its demand factor and its demand kW."""

    kind: str
    installed_kw: float
    demand_factor: float
    demand_kw: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name_zh": LOAD_CLASS_NAMES[self.kind],
            "installed_kw": round(self.installed_kw, 2),
            "demand_factor": self.demand_factor,
            "demand_kw": round(self.demand_kw, 2),
        }


@dataclass(frozen=True, slots=True)
class TransformerChoice:
    """The customer's transformers (受电变压器): ``count`` equal units of ``sn_kva``."""

    count: int
    sn_kva: float
    types: tuple[str, ...]  # catalogue types of that size: oil-immersed, then dry
    loading_percent: float  # the demand over the units' total rating
    target_loading: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "sn_kva": self.sn_kva,
            "total_kva": self.count * self.sn_kva,
            "types": list(self.types),
            "loading_percent": round(self.loading_percent, 1),
            "target_loading": self.target_loading,
        }


@dataclass(frozen=True, slots=True)
class CapacityAdvice:
    """What a list of loads needs: demand, applied capacity, voltage, transformers, and why.

    ``applied_capacity`` is the figure for the application's capacity field: kW at low
    voltage, the transformers' total kVA at 10 kV, the kVA to design for above 10 kV
    (``applied_capacity_unit`` says which)."""

    installed_kw: float
    by_class: tuple[ClassDemand, ...]
    coincidence_factor: float
    demand_kw: float
    power_factor: float
    demand_kva: float
    applied_capacity: float
    applied_capacity_unit: Literal["kW", "kVA"]
    supply_voltage_kv: float
    phases: int
    transformers: TransformerChoice | None
    reasoning: tuple[str, ...]
    rules_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "installed_kw": round(self.installed_kw, 2),
            "by_class": [c.to_dict() for c in self.by_class],
            "coincidence_factor": self.coincidence_factor,
            "demand_kw": round(self.demand_kw, 2),
            "power_factor": self.power_factor,
            "demand_kva": round(self.demand_kva, 2),
            "applied_capacity": self.applied_capacity,
            "applied_capacity_unit": self.applied_capacity_unit,
            "supply_voltage_kv": self.supply_voltage_kv,
            "phases": self.phases,
            "transformers": self.transformers.to_dict() if self.transformers else None,
            "reasoning": list(self.reasoning),
            "rules_version": self.rules_version,
        }


def advise_capacity(loads: Any, *, rules: Rules | None = None) -> CapacityAdvice:
    """The applied capacity, voltage and transformers a list of loads needs.

    ``loads`` is a list of ``{"kind": <load class>, "kw": <rated kW of one unit>, "count":
    <units, default 1>}``. Every problem is collected; :class:`InvalidApplicationError`
    names each field (``loads[2].kw``) and why."""
    rules = rules or load_rules()
    groups = _parse(loads)
    r = rules.get("advisor")
    volt = rules.get("scheme.supply_voltage")
    pf = float(r["power_factor"])
    target = float(r["transformer_target_loading"])
    why: list[str] = []

    installed: dict[str, float] = {}
    for kind, kw, count in groups:  # first appearance fixes the order
        installed[kind] = installed.get(kind, 0.0) + kw * count
    factors = {kind: float(rules.get(f"advisor.demand_factors.{kind}")) for kind in installed}
    by_class = tuple(
        ClassDemand(kind, kw, factors[kind], kw * factors[kind]) for kind, kw in installed.items()
    )
    installed_kw = sum(c.installed_kw for c in by_class)
    why.append(f"装机容量合计 {_n(installed_kw)} kW（各用电设备额定功率 × 台数之和）。")
    for c in by_class:
        why.append(
            f"{LOAD_CLASS_NAMES[c.kind]} {_n(c.installed_kw)} kW × 需要系数 "
            f"{_n(c.demand_factor)} = {_n(c.demand_kw)} kW"
        )
    # the coincidence factor applies to one class too: adding a load never lowers the demand
    subtotal = sum(c.demand_kw for c in by_class)
    k_sum = float(r["coincidence_factor"])
    demand_kw = subtotal * k_sum
    summed = " + ".join(_n(c.demand_kw) for c in by_class)
    why.append(
        (f"各类负荷相加 {summed} = {_n(subtotal)} kW；" if len(by_class) > 1 else "")
        + f"用电设备不会同时达到最大，乘同时系数 {_n(k_sum)}："
        f"{_n(subtotal)} kW × {_n(k_sum)} = {_n(demand_kw)} kW（最大需用负荷）"
    )
    demand_kva = demand_kw / pf
    why.append(
        f"按功率因数 {_n(pf)} 折算为视在功率：{_n(demand_kw)} kW ÷ {_n(pf)} = {_n(demand_kva)} kVA"
    )

    def advice(
        applied: float,
        unit: Literal["kW", "kVA"],
        voltage_kv: float,
        phases: int,
        transformers: TransformerChoice | None = None,
    ) -> CapacityAdvice:
        return CapacityAdvice(
            installed_kw=installed_kw,
            by_class=by_class,
            coincidence_factor=k_sum,
            demand_kw=demand_kw,
            power_factor=pf,
            demand_kva=demand_kva,
            applied_capacity=applied,
            applied_capacity_unit=unit,
            supply_voltage_kv=voltage_kv,
            phases=phases,
            transformers=transformers,
            reasoning=tuple(why),
            rules_version=rules.version,
        )

    # the applied figure at low voltage is the demand in whole kW, compared with the
    # thresholds as the scheme compares the application's capacity
    whole_kw = float(math.ceil(round(demand_kw, 6)))
    if whole_kw <= float(volt["lv_max_kw"]):
        single = whole_kw <= float(volt["single_phase_max_kw"])
        voltage, phases = (0.22, 1) if single else (0.38, 3)
        why.append(
            f"最大需用负荷约 {_n(whole_kw)} kW，不超过 "
            + (
                f"{_n(volt['single_phase_max_kw'])} kW，可 220 伏单相供电"
                if single
                else f"{_n(volt['lv_max_kw'])} kW，可由公用电网 380 伏三相低压供电"
            )
            + f"，无需自备变压器。建议申请容量 {_n(whole_kw)} kW。"
        )
        return advice(whole_kw, "kW", voltage, phases)

    why.append(
        f"最大需用负荷约 {_n(whole_kw)} kW，超过低压供电上限 {_n(volt['lv_max_kw'])} kW，"
        "需高压供电，并自备变压器（专用变压器）。"
    )
    if whole_kw <= float(volt["lv_small_micro_max_kw"]):
        why.append(
            f"如您是小微企业，{_n(volt['lv_small_micro_max_kw'])} kW 及以下也可申请低压供电。"
        )
    choice = _transformers(demand_kva, target, why, rules)
    applied = choice.count * choice.sn_kva
    if applied <= float(volt["mv_max_kva"]) + 1e-9:
        why.append(
            f"变压器容量之和不超过 {_n(volt['mv_max_kva'])} kVA，可 10 千伏供电；高压用户的"
            f"申请容量为变压器容量之和，建议申请 {_n(applied)} kVA。"
        )
        if applied >= float(rules.get("scheme.dedicated_line_min_kva")) - 1e-9:
            why.append(
                f"申请容量达到 {_n(rules.get('scheme.dedicated_line_min_kva'))} kVA 及以上，"
                "一般由变电站 10 千伏专线供电。"
            )
        return advice(applied, "kVA", 10.0, 3, choice)

    # above what 10 kV serves: the receiving substation is designed, not picked from a list
    need = float(math.ceil(round(demand_kva / target, 6)))
    if need <= float(volt["hv35_max_kva"]):
        voltage = 35.0
    elif need <= float(volt["hv110_max_kva"]):
        voltage = 110.0
    else:
        raise InvalidApplicationError(
            [
                FieldProblem(
                    "loads",
                    f"a demand of {demand_kva:.0f} kVA is beyond what any supply voltage of these"
                    f" rules serves (at most {float(volt['hv110_max_kva']):.0f} kVA at 110 kV)",
                )
            ]
        )
    why.append(
        f"变压器容量之和 {_n(applied)} kVA 超过 10 千伏供电上限 {_n(volt['mv_max_kva'])} kVA，"
        f"需 {_n(voltage)} 千伏供电；按负载率 {_percent(target)} 估算：{_n(demand_kva)} kVA ÷ "
        f"{_n(target)} ≈ {_n(need)} kVA，建议申请 {_n(need)} kVA，"
        "受电变电站的变压器由设计单位据此选定。"
    )
    return advice(need, "kVA", voltage, 3)


def _transformers(
    demand_kva: float, target: float, why: list[str], rules: Rules
) -> TransformerChoice:
    """One unit when the demand fits the largest unit at the target loading, else the
    fewest equal units of the smallest standard size that carry it. Sizes and the largest
    single unit are the scheme's receiving-installation rules (``terms.receiving``), so the
    advice and the scheme's 受电装置 agree; catalogue types are named where it has them."""
    receiving = rules.get("terms.receiving")
    by_size: dict[float, list[str]] = {float(s): [] for s in receiving["transformer_sizes_kva"]}
    for t in load_catalogue().transformer_types.values():
        if t.role == "distribution" and float(t.sn_kva) in by_size:
            by_size[float(t.sn_kva)].append(t.name)
    largest = float(receiving["single_transformer_max_kva"])
    sizes = sorted(s for s in by_size if s <= largest)
    count = max(1, math.ceil(demand_kva / (largest * target) - 1e-9))
    per_unit = demand_kva / count / target
    size = next(s for s in sizes if s >= per_unit - 1e-6)
    # oil-immersed (S…) before cast-resin dry (SC…), as the catalogue names them
    types = tuple(sorted(by_size[size], key=lambda n: (n.startswith("SC"), n)))
    loading = 100.0 * demand_kva / (count * size)
    share = _percent(target)
    if count == 1:
        why.append(
            f"变压器负载率按不超过 {share} 选取：{_n(demand_kva)} kVA ÷ {_n(target)} = "
            f"{_n(per_unit)} kVA，选用 1 台 {_n(size)} kVA 标准变压器"
            f"（{_type_names(types)}），负载率约 {_n(round(loading, 1))}%。"
        )
    else:
        why.append(
            f"单台最大标准容量 {_n(largest)} kVA 按 {share} 负载只能承担 "
            f"{_n(largest * target)} kVA，需 {count} 台：{_n(demand_kva)} kVA ÷ {count} ÷ "
            f"{_n(target)} = {_n(per_unit)} kVA，每台选 {_n(size)} kVA 标准变压器"
            f"（{_type_names(types)}），负载率约 {_n(round(loading, 1))}%。"
        )
    return TransformerChoice(count, float(size), types, loading, target)


def _parse(loads: Any) -> list[tuple[str, float, int]]:
    """(kind, kW, count) per item, or every problem at once."""
    problems: list[FieldProblem] = []
    if not isinstance(loads, list | tuple):
        raise InvalidApplicationError([FieldProblem("loads", "must be a list of loads")])
    if not loads:
        raise InvalidApplicationError([FieldProblem("loads", "must list at least one load")])
    if len(loads) > MAX_LOADS:
        raise InvalidApplicationError(
            [FieldProblem("loads", f"must list at most {MAX_LOADS} loads, not {len(loads)}")]
        )
    groups: list[tuple[str, float, int]] = []
    for i, item in enumerate(loads):
        at = f"loads[{i}]"
        if not isinstance(item, Mapping):
            problems.append(FieldProblem(at, 'must be {"kind": …, "kw": …, "count": …}'))
            continue
        for name in item:
            if name not in ("kind", "kw", "count"):
                problems.append(FieldProblem(f"{at}.{name}", "is not a field of a load"))
        kind: Any = item.get("kind")
        kw: Any = item.get("kw")
        count: Any = item.get("count", 1)
        kind_ok = kind in LOAD_CLASSES
        kw_ok = (
            isinstance(kw, int | float)
            and not isinstance(kw, bool)
            and math.isfinite(kw)
            and 0 < kw <= MAX_LOAD_KW
        )
        count_ok = (
            isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_COUNT
        )
        if not kind_ok:
            problems.append(
                FieldProblem(
                    f"{at}.kind", f"must be one of {', '.join(LOAD_CLASSES)}, not {kind!r}"
                )
            )
        if not kw_ok:
            problems.append(
                FieldProblem(f"{at}.kw", f"must be a number above 0 and at most {MAX_LOAD_KW:.0f}")
            )
        if not count_ok:
            problems.append(
                FieldProblem(f"{at}.count", f"must be a whole number from 1 to {MAX_COUNT}")
            )
        if kind_ok and kw_ok and count_ok:
            groups.append((str(kind), float(kw), int(count)))
    if problems:
        raise InvalidApplicationError(problems)
    return groups


def _type_names(types: tuple[str, ...]) -> str:
    names = [("干式 " if n.startswith("SC") else "油浸式 ") + n for n in types]
    return " 或 ".join(names) or "油浸式或干式"


def _percent(share: float) -> str:
    return f"{_n(share * 100)}%"


def _n(value: Any) -> str:
    """A number as a customer reads it: at most two decimals, no trailing zeros."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
