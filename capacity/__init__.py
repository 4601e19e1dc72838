"""Openable capacity (可开放容量): rule-based limits and AC power-flow hosting capacity."""

from capacity._criteria import HostingCriteria
from capacity._errors import BaseCaseError, CapacityError, CriteriaError, UnknownElementError
from capacity._fast import fast_hosting
from capacity._hosting import BusCapacity, bus_levels, reference_hosting

__all__ = [
    "BaseCaseError",
    "BusCapacity",
    "CapacityError",
    "CriteriaError",
    "HostingCriteria",
    "UnknownElementError",
    "bus_levels",
    "fast_hosting",
    "reference_hosting",
]
