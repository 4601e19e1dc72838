"""Openable capacity (可开放容量): rule-based limits and AC power-flow hosting capacity.

- :func:`rule_capacity`: C1 / C2 / light per main transformer, bus section, feeder,
  segment, distribution transformer and connection point, in-flight reservations
  deducted along each supply path (domain.md §2).
- :func:`fast_hosting` (default) and :func:`reference_hosting` (pandapower bisection):
  the largest load an AC power flow accepts at each bus, and what binds; by default at
  every MV bus, the LV buses (低压) or both with ``voltage`` (:func:`hosting_buses`).
- :func:`connection_point_capacity`: a point's openable capacity, min(rules, AC).
- :class:`CapacityState`: the capacity kept current by reservations (totals per element,
  path-length updates, the AC figure adjusted until a fresh AC search replaces it).
- :func:`project_for` / :func:`point_capacity_after`: the supporting project that gives an
  element the room needed, and a point's capacity recomputed with projects in place.
- :func:`what_if` / :func:`run_study`: a scenario on a copy of the network, one year or
  several, with the problem list and the projects (checked by recomputation) that close
  every red element (:func:`close_red`).
"""

from capacity._criteria import HostingCriteria
from capacity._distributed import distributed_rule_capacity, partitions
from capacity._errors import (
    BaseCaseError,
    CapacityError,
    CriteriaError,
    MissingRatingError,
    UnknownElementError,
)
from capacity._fast import fast_hosting
from capacity._hosting import (
    VOLTAGES,
    BusCapacity,
    base_case_voltages,
    bus_levels,
    hosting_buses,
    reference_hosting,
)
from capacity._islands import island_hosting, island_net
from capacity._loads import LoadProfiles, load_profiles
from capacity._planning import published_plan
from capacity._projects import (
    GapPlan,
    PointAfter,
    Project,
    close_gap,
    point_capacity_after,
    project_for,
    with_projects,
)
from capacity._publish import (
    PointCapacity,
    district_total,
    private_buses,
    public_only,
    rows_to_csv,
    rows_to_geojson,
    rows_to_table,
    substation_parents,
    summarise,
)
from capacity._report import (
    LEVELS,
    ac_capacity,
    capacity_rows,
    connection_point_capacity,
)
from capacity._rules_based import (
    ElementCapacity,
    Reservation,
    RuleCapacity,
    apply_inflight,
    n1_secure_of,
    rule_capacity,
    trunk_lines,
)
from capacity._state import AcSnapshot, CapacityState
from capacity._study import (
    StudyProject,
    StudyResult,
    StudyYear,
    close_red,
    problem_list,
    run_study,
    year_network,
)
from capacity._timeseries import ac_capacity_over_time, critical_steps
from capacity._transfer import (
    FeederTransfer,
    TieTransfer,
    TransferRelief,
    n1_transfer,
    relief_through_ties,
)
from capacity._whatif import (
    Scenario,
    ScenarioError,
    WhatIfResult,
    apply_scenario,
    load_scenario,
    what_if,
)
from capacity._whatif_png import write_study_pngs, write_what_if_pngs
from capacity._whatif_report import render_study, render_what_if, write_study

__all__ = [
    "AcSnapshot",
    "CapacityState",
    "apply_inflight",
    "island_hosting",
    "island_net",
    "LEVELS",
    "VOLTAGES",
    "Scenario",
    "ScenarioError",
    "WhatIfResult",
    "apply_scenario",
    "load_scenario",
    "what_if",
    "write_what_if_pngs",
    "StudyProject",
    "StudyResult",
    "StudyYear",
    "close_red",
    "problem_list",
    "render_study",
    "run_study",
    "write_study",
    "write_study_pngs",
    "year_network",
    "BaseCaseError",
    "BusCapacity",
    "CapacityError",
    "CriteriaError",
    "ElementCapacity",
    "FeederTransfer",
    "HostingCriteria",
    "LoadProfiles",
    "MissingRatingError",
    "GapPlan",
    "PointAfter",
    "PointCapacity",
    "Project",
    "Reservation",
    "RuleCapacity",
    "TieTransfer",
    "TransferRelief",
    "UnknownElementError",
    "ac_capacity",
    "ac_capacity_over_time",
    "base_case_voltages",
    "bus_levels",
    "hosting_buses",
    "capacity_rows",
    "connection_point_capacity",
    "distributed_rule_capacity",
    "partitions",
    "critical_steps",
    "fast_hosting",
    "load_profiles",
    "n1_secure_of",
    "n1_transfer",
    "reference_hosting",
    "render_what_if",
    "relief_through_ties",
    "rows_to_csv",
    "rows_to_geojson",
    "rows_to_table",
    "close_gap",
    "point_capacity_after",
    "project_for",
    "rule_capacity",
    "trunk_lines",
    "with_projects",
    "district_total",
    "private_buses",
    "public_only",
    "published_plan",
    "substation_parents",
    "summarise",
]
