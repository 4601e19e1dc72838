"""Errors raised by :mod:`capacity`."""

from __future__ import annotations


class CapacityError(Exception):
    """Root of every error raised by capacity."""


class BaseCaseError(CapacityError):
    """The base case (the network as it is) does not solve in an AC power flow."""


class UnknownElementError(CapacityError):
    """A bus, element or connection point id is not in the network."""


class CriteriaError(CapacityError):
    """A capacity criterion (loading limit, voltage band, power factor …) is out of range."""


class MissingRatingError(CapacityError):
    """An element the search must check has no rating (line max_i_ka, transformer sn_mva)."""
