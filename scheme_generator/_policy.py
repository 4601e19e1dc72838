"""The seed's policy rules (安供电营销〔2022〕24号) applied to one application.

Everything here follows from the application and the rules file alone (no network):
customer class and the small-micro test, supply voltage, number of sources, dedicated
line, steps, inspections, investment boundary and who pays, materials (annex 1), the
archive list (annex 2), outage-plan class, fees and the time limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from grid_models import Rules, load_rules
from scheme_generator._application import Application
from scheme_generator._errors import FieldProblem, InvalidApplicationError
from scheme_generator._terms import tariff_category

CustomerClass = Literal[
    "lv_resident", "lv_non_resident", "lv_small_micro", "hv_ordinary", "hv_important"
]
Boundary = Literal["red_line", "connection_point", "meter_box"]
Payer = Literal["customer", "utility", "government"]

# archive rows of annex 2: code → (columns where required √, columns where as needed △)
_ARCHIVE: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = (
    ("registration_form", frozenset({"all"}), frozenset()),
    ("identity_or_subject_proof", frozenset({"all"}), frozenset()),
    ("property_proof", frozenset({"all"}), frozenset()),
    ("main_equipment_list", frozenset(), frozenset({"hv"})),
    (
        "agent_documents",
        frozenset({"well_individual", "well_collective"}),
        frozenset({"lv_non_resident", "charger_non_resident", "base_station_5g", "hv"}),
    ),
    ("government_approval", frozenset(), frozenset({"hv"})),
    ("site_survey_form", frozenset({"all"}), frozenset()),
    ("scheme_reply_sheet", frozenset({"hv"}), frozenset()),
    ("design_qualification_certificate", frozenset({"hv"}), frozenset()),
    ("design_submission_form", frozenset(), frozenset({"hv"})),
    ("design_review_opinion", frozenset(), frozenset({"hv"})),
    ("contractor_licence", frozenset({"hv"}), frozenset()),
    ("completion_report_form", frozenset({"hv"}), frozenset()),
    ("completion_documents", frozenset({"hv"}), frozenset()),
    ("completion_inspection_opinion", frozenset({"hv"}), frozenset()),
    ("metering_installation_form", frozenset({"all"}), frozenset()),
    ("energisation_form_and_contract", frozenset({"all"}), frozenset()),
)


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What the rules say for one application, before any network is consulted."""

    customer_class: CustomerClass
    small_micro: bool
    small_micro_exclusion: str | None
    supply_voltage_kv: float
    phases: int
    hv: bool
    dedicated_line: bool
    sources_required: int
    sources_from_different_substations: bool
    steps: tuple[str, ...]
    inspections: tuple[str, ...]
    investment_boundary: Boundary
    red_line_reason: str | None
    external_works_payer: Payer
    materials: tuple[str, ...]
    deferred_materials: tuple[str, ...]
    archive: tuple[str, ...]
    fees: tuple[str, ...]
    outage_plan: str
    base_time_limit_workdays: int
    validity_months: int
    rules_version: str
    notes: tuple[str, ...]
    #: application fields whose answer could change this decision (asked, not assumed)
    questions: tuple[str, ...] = ()

    def time_limit_workdays(self, supporting_project: bool, rules: Rules | None = None) -> int:
        """The whole-process limit for this customer (supporting-project time excluded
        at HV, included at LV)."""
        limits = (rules or load_rules()).get("scheme.time_limits_workdays")
        if not self.hv:
            lv = (
                limits["lv_with_supporting_project"]
                if supporting_project
                else limits["lv_no_supporting_project"]
            )
            return min(lv, limits["small_micro"]) if self.small_micro else int(lv)
        return self.base_time_limit_workdays


def decide(
    app: Application,
    *,
    in_provincial_park: bool = False,
    in_urban_planning_area: bool = False,
    rules: Rules | None = None,
) -> PolicyDecision:
    """Apply the seed's rules. The area flags are the application's own when it gives them,
    else what the network's area polygons say (the caller resolves that)."""
    rules = rules or load_rules()
    r: dict[str, Any] = rules.get("scheme")
    notes: list[str] = []
    park = app.in_provincial_park if app.in_provincial_park is not None else in_provincial_park
    planning = (
        app.in_urban_planning_area
        if app.in_urban_planning_area is not None
        else in_urban_planning_area
    )

    small_micro, exclusion = _small_micro(app, r["small_micro"])
    volt = r["supply_voltage"]
    lv_limit = volt["lv_small_micro_max_kw"] if small_micro else volt["lv_max_kw"]
    hv = app.capacity_kva > lv_limit or (app.requests_hv and small_micro)
    if app.important_user_level in ("special", "first", "second") and not hv:
        hv = True
        notes.append("重要电力用户以10千伏及以上电压供电")
    if not hv:
        single = app.phases == 1 or (
            app.customer_type == "resident" and app.capacity_kva <= volt["single_phase_max_kw"]
        )
        voltage, phases = (
            (0.22, 1) if single and app.capacity_kva <= volt["single_phase_max_kw"] else (0.38, 3)
        )
    else:
        phases = 3
        if app.capacity_kva <= volt["mv_max_kva"]:
            voltage = 10.0
        elif app.capacity_kva <= volt["hv35_max_kva"]:
            voltage = 35.0
        elif app.capacity_kva <= volt["hv110_max_kva"]:
            voltage = 110.0
        else:
            raise InvalidApplicationError(
                [
                    FieldProblem(
                        "capacity_kva",
                        f"{app.capacity_kva:.0f} kVA is beyond what any supply voltage of these"
                        f" rules serves (at most {volt['hv110_max_kva']:.0f} kVA at 110 kV):"
                        " a 220 kV connection is a transmission project, not an application",
                    )
                ]
            )
    if hv:
        cls: CustomerClass = "hv_important" if app.important_user_level else "hv_ordinary"
    elif app.customer_type == "resident":
        cls = "lv_resident"
    elif small_micro:
        cls = "lv_small_micro"
    else:
        cls = "lv_non_resident"

    boundary, reason, payer, questions = _boundary(
        app, cls, hv, small_micro, park, planning, r["red_line"], tariff_category(app, rules)
    )
    has_external = (
        app.external_works
        and boundary != "red_line"
        and cls not in ("lv_resident", "lv_small_micro")
    )
    if hv:
        steps = [
            s
            for s in ("application", "scheme_reply", "external_works", "metering_connection")
            if not (s == "application" and app.proactive)
            and not (s == "external_works" and not has_external)
        ]
        handover = app.asset_handover or app.important_user_level is not None
        inspections = tuple(
            r["inspections"]["hv_important_or_handover" if handover else "hv_ordinary"]
        )
    else:
        if cls == "lv_small_micro" and app.proactive:
            steps = ["metering_connection"]
        elif cls in ("lv_resident", "lv_small_micro"):
            steps = ["application", "metering_connection"]
        else:
            steps = [
                "application",
                *(["external_works"] if has_external else []),
                "metering_connection",
            ]
        inspections = ()
        handover = False

    limits = r["time_limits_workdays"]
    if hv:
        base = limits["hv"]
        if handover:
            base += limits["design_review_extra"] + limits["midway_inspection_extra"]
        if small_micro:
            base = min(base, limits["small_micro"])
    else:
        base = limits["lv_no_supporting_project"]

    level = app.important_user_level
    sources = {"special": 3, "first": 2, "second": 2, "temporary": 1}.get(level or "", 1)
    dedicated = hv and app.capacity_kva >= r["dedicated_line_min_kva"]
    # every customer on two or more circuits (backup and security ones included)
    # [std, 发改价格〔2003〕2279号]; the amount is per option (scheme_generator/_terms.py)
    fees = ("high_reliability_fee",) if sources >= 2 else ()
    if voltage >= 35:
        outage = r["outage_plan"]["hv35_or_above"]
    elif hv:
        outage = r["outage_plan"]["mv_no_other_customers" if dedicated else "mv"]
    else:
        outage = r["outage_plan"]["live_work"]
    materials, deferred = _materials(app, cls)
    if small_micro and hv:
        # a small-micro enterprise connects at HV only on its written request [seed 三(三)1]
        materials = (*materials, "voluntary_hv_proof")
    # the scheme's validity; a temporary supply's use period is separate (scheme.temporary)
    validity = r["validity_months"]["hv" if hv else "lv"]
    return PolicyDecision(
        customer_class=cls,
        small_micro=small_micro,
        small_micro_exclusion=exclusion,
        supply_voltage_kv=voltage,
        phases=phases,
        hv=hv,
        dedicated_line=dedicated,
        sources_required=sources,
        sources_from_different_substations=level in ("special", "first"),
        steps=tuple(steps),
        inspections=inspections,
        investment_boundary=boundary,
        red_line_reason=reason,
        external_works_payer=payer,
        materials=materials,
        deferred_materials=deferred,
        archive=_archive(app, cls),
        fees=fees,
        outage_plan=outage,
        base_time_limit_workdays=int(base),
        validity_months=validity,
        rules_version=rules.version,
        notes=tuple(notes),
        questions=questions,
    )


def _small_micro(app: Application, r: dict[str, Any]) -> tuple[bool, str | None]:
    """Small-micro test [seed 三(三)1]: industrial/commercial, ≤ 160 kW, no exclusion."""
    if app.customer_type == "resident" or app.industry == "residential":
        return False, None
    for key, code in (
        ("excluded_industries", app.industry),
        ("excluded_ownership", app.ownership),
        ("excluded_categories", app.category),
    ):
        if code in r[key]:
            return False, code
    if r["excluded_batch"] and app.batch:
        return False, "batch"
    if app.industry not in r["industries"]:
        return False, app.industry
    if app.capacity_kva > r["max_kw"]:
        return False, "capacity_over_160_kw"
    return True, None


def _boundary(
    app: Application,
    cls: str,
    hv: bool,
    small_micro: bool,
    park: bool,
    planning: bool,
    r: dict[str, Any],
    tariff: str,
) -> tuple[Boundary, str | None, Payer, tuple[str, ...]]:
    """Investment boundary [seed 三(三)1, 豫政办〔2021〕66号], who pays the works between the
    red line and the public grid, and the fields whose answer could still change that
    (a missing land-right date in urban planning land)."""
    industrial = app.industry in ("industrial", "commercial")
    if app.category == "residential_estate":
        # the utility invests to the demarcation point (first breaker or support outside
        # the red line) and the metering — every household meter (一户一表) or the master
        # meter (合表); the developer builds the rest [seed 三(三)1]
        reason = (
            "estate_master_meter"
            if app.estate_metering == "master_meter"
            else "estate_one_meter_per_household"
        )
        return "red_line", reason, "utility", ()
    if cls == "lv_resident":
        return "meter_box", "lv_resident_meter_box", "utility", ()
    if small_micro and not hv:
        return "red_line", "small_micro", "utility", ()
    if app.category == "ev_charging":
        return "red_line", "ev_charging", "utility", ()
    if app.electrification_share > r["electrification_share_min"]:
        return "red_line", "electrification", "utility", ()
    if (
        hv
        and industrial
        and park
        and app.category not in r["park_excluded_categories"]
        and app.industry not in r["park_excluded_industries"]
    ):
        return "red_line", "provincial_park", "utility", ()
    if not planning:
        return "connection_point", None, "customer", ()
    if app.land_right_date is None:
        # in urban planning land the land-right date decides (66号): ask, never assume
        return "connection_point", None, "customer", ("land_right_date",)
    cutoff = dt.date.fromisoformat(r["henan_land_right_after"])
    if app.land_right_date > cutoff:
        # by tariff: residential-tariff users at ≥ 1 kV, and 工商业 users outside
        # provincial zones — the government pays the red line–grid works; the utility
        # pays for the rest (EV charging, electrification HV users and LV small-micro are
        # red-line customers above)
        government = (hv and tariff == "residential") or (
            tariff == "industrial_commercial" and not park
        )
        return (
            "red_line",
            "henan_land_after_2021_03_01",
            ("government" if government else "utility"),
            (),
        )
    return "connection_point", None, "customer", ()


def _materials(app: Application, cls: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Annex 1. Returns (materials, those deferred to the site survey under 容缺)."""
    if app.category == "irrigation_well":
        base = (
            ["identity_proof", "property_proof"]
            if app.ownership == "individual"
            else ["authorisation_letter", "property_proof"]
        )
    elif app.category == "base_station_5g":
        base = ["subject_proof", "address_list"]
    elif app.customer_type == "resident" or cls == "lv_resident":
        base = ["identity_proof", "property_proof"]
    else:
        base = ["subject_proof", "property_proof"]
        if app.address_matches_licence:
            base = ["property_proof"]  # 一证办结, with the customer's commitment
    if app.important_user_level is not None and cls.startswith("hv"):
        base.append("government_approval")
    if app.via_agent:
        base += ["authorisation_letter", "agent_identity_proof"]
    materials = tuple(dict.fromkeys(base))
    deferred: tuple[str, ...] = ()
    if app.subject_proof_only and "subject_proof" in materials:
        deferred = tuple(m for m in materials if m != "subject_proof")
    return materials, deferred


def _archive(app: Application, cls: str) -> tuple[str, ...]:
    """Annex 2: the documents archived for this customer type."""
    if cls.startswith("hv"):
        column = "hv"
    elif app.category == "irrigation_well":
        column = "well_individual" if app.ownership == "individual" else "well_collective"
    elif app.category == "ev_charging":
        column = "charger_resident" if app.customer_type == "resident" else ("charger_non_resident")
    elif app.category == "base_station_5g":
        column = "base_station_5g"
    else:
        column = "lv_resident" if cls == "lv_resident" else "lv_non_resident"
    out: list[str] = []
    for code, required, as_needed in _ARCHIVE:
        needed = column in as_needed and _archive_needed(code, app)
        if "all" in required or column in required or needed:
            out.append(code)
    return tuple(out)


def _archive_needed(code: str, app: Application) -> bool:
    if code == "agent_documents":
        return app.via_agent
    if code == "government_approval":
        return app.important_user_level is not None
    if code in ("design_submission_form", "design_review_opinion"):
        return app.important_user_level is not None or app.asset_handover
    return code == "main_equipment_list" and app.capacity_kva >= 630
