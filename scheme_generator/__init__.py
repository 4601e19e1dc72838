"""Supply schemes (供电方案): the seed's rules applied to an application.

This first part is the policy: :func:`parse_application` validates an application,
:func:`decide` applies the rules of the Anyang notice (customer class, small-micro test,
voltage, sources, steps, inspections, investment boundary, materials, archive, outage
plan, fees, time limit), and :class:`WorkCalendar` counts Chinese working days.
"""

from scheme_generator._advisor import (
    LOAD_CLASS_NAMES,
    LOAD_CLASSES,
    CapacityAdvice,
    ClassDemand,
    LoadClass,
    TransformerChoice,
    advise_capacity,
)
from scheme_generator._application import (
    Application,
    Business,
    Category,
    CustomerType,
    EstateMetering,
    ImportantLevel,
    Industry,
    Objective,
    Ownership,
    parse_application,
)
from scheme_generator._batch import BatchProblem, BatchResult, greedy, solve_batch
from scheme_generator._calendar import WorkCalendar, calendar_from_rules
from scheme_generator._candidates import Candidate, SchemeContext, find_candidates
from scheme_generator._errors import FieldProblem, InvalidApplicationError, SchemeError
from scheme_generator._policy import PolicyDecision, decide
from scheme_generator._progress import WARNING_ORDER, step_due_dates, warning_level
from scheme_generator._publication import BUSINESS_TYPES, business_rules, published_rules
from scheme_generator._reply_sheet import render_reply_sheet
from scheme_generator._scheme import generate_scheme
from scheme_generator._solver import Choice, CpSatSolver, SourceRule, SourceSolver
from scheme_generator._whatif_schemes import reserve_pool, schemes_that_change

__all__ = [
    "BUSINESS_TYPES",
    "LOAD_CLASSES",
    "LOAD_CLASS_NAMES",
    "WARNING_ORDER",
    "step_due_dates",
    "warning_level",
    "Application",
    "Business",
    "CapacityAdvice",
    "ClassDemand",
    "Category",
    "CustomerType",
    "EstateMetering",
    "ImportantLevel",
    "Industry",
    "LoadClass",
    "Objective",
    "Ownership",
    "advise_capacity",
    "business_rules",
    "published_rules",
    "BatchProblem",
    "BatchResult",
    "greedy",
    "solve_batch",
    "Candidate",
    "Choice",
    "CpSatSolver",
    "SchemeContext",
    "SourceRule",
    "SourceSolver",
    "find_candidates",
    "generate_scheme",
    "FieldProblem",
    "InvalidApplicationError",
    "PolicyDecision",
    "TransformerChoice",
    "SchemeError",
    "WorkCalendar",
    "calendar_from_rules",
    "decide",
    "parse_application",
    "render_reply_sheet",
    "reserve_pool",
    "schemes_that_change",
]
