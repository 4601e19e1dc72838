"""Request and response models (pydantic), split by direction."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from scheme_generator import (
    Business,
    Category,
    CustomerType,
    EstateMetering,
    ImportantLevel,
    Industry,
    LoadClass,
    Objective,
    Ownership,
)


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: float = Field(strict=True, allow_inf_nan=False, ge=-180, le=180, examples=[114.35])
    lat: float = Field(strict=True, allow_inf_nan=False, ge=-90, le=90, examples=[36.10])


class ApplicationIn(BaseModel):
    """An application for electricity (用电申请), as the contract defines it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_name": "安阳市某某餐饮有限公司",
                    "customer_type": "non_resident",
                    "business": "new",
                    "category": "general",
                    "industry": "commercial",
                    "ownership": "private",
                    "location": {"lon": 114.35, "lat": 36.10},
                    "capacity_kva": 120,
                    "phases": 3,
                    "objective": "cheapest",
                }
            ]
        },
    )

    customer_name: str = Field(min_length=1, max_length=200)
    customer_type: CustomerType
    business: Business
    category: Category = "general"
    industry: Industry = "commercial"
    ownership: Ownership = "private"
    location: Location
    capacity_kva: float = Field(strict=True, allow_inf_nan=False, gt=0, le=1_000_000)
    phases: Literal[1, 3] = 3
    important_user_level: ImportantLevel | None = None
    in_provincial_park: StrictBool | None = None
    electrification_share: float = Field(0.0, strict=True, allow_inf_nan=False, ge=0, le=1)
    proactive: StrictBool = False
    batch: StrictBool = False
    requests_hv: StrictBool = False
    external_works: StrictBool = True
    asset_handover: StrictBool = False
    land_right_date: dt.date | None = None
    in_urban_planning_area: StrictBool | None = None
    address_matches_licence: StrictBool = False
    objective: Objective = "cheapest"
    # the day the application is made: today (the service's date) when not given (contract)
    application_date: dt.date | None = None
    via_agent: StrictBool = False
    subject_proof_only: StrictBool = False
    customer_works_date: dt.date | None = None
    households: int | None = Field(None, strict=True, gt=0, le=1_000_000)
    estate_metering: EstateMetering | None = None
    household_floor_area_m2: float | None = Field(
        None, strict=True, allow_inf_nan=False, gt=0, le=10_000
    )
    security_load_kva: float | None = Field(
        None, strict=True, allow_inf_nan=False, gt=0, le=1_000_000
    )

    @field_validator("phases", mode="before")
    @classmethod
    def _phases_a_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be the number 1 or 3")
        return value

    def to_domain_dict(self) -> dict[str, Any]:
        data = self.model_dump()
        data["location"] = {"lon": self.location.lon, "lat": self.location.lat}
        for key in ("application_date", "land_right_date", "customer_works_date"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


class LoadIn(BaseModel):
    """One kind of load on the customer's list: the rated kW of one unit and how many."""

    model_config = ConfigDict(extra="forbid")
    kind: LoadClass
    kw: float = Field(strict=True, allow_inf_nan=False, gt=0, le=100_000, examples=[20])
    count: int = Field(1, strict=True, ge=1, le=10_000, examples=[1])


class CapacityAdviceIn(BaseModel):
    """A customer's list of loads, for the capacity advisor (容量测算)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "loads": [
                        {"kind": "lighting", "kw": 20, "count": 1},
                        {"kind": "motors", "kw": 15, "count": 2},
                        {"kind": "air_conditioning", "kw": 10, "count": 3},
                    ]
                }
            ]
        },
    )

    loads: list[LoadIn] = Field(min_length=1, max_length=200)

    def to_domain_list(self) -> list[dict[str, Any]]:
        return [load.model_dump() for load in self.loads]


class SelectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    option_id: str = Field(min_length=1, max_length=4, examples=["A"])


class ApplicationCreatedOut(BaseModel):
    application_id: str
    access_token: str
    status: str
    scheme: dict[str, Any]


class ApplicationOut(BaseModel):
    application_id: str
    status: str
    selected_option: str | None
    network_id: str
    network_version: str
    rules_version: str
    application: dict[str, Any]
    scheme: dict[str, Any]
    reservations: list[dict[str, Any]]
    progress: dict[str, Any]
    events: list[dict[str, Any]]


class StatusOut(BaseModel):
    application_id: str
    status: str
    selected_option: str | None = None
    reserved_kva: float = 0.0
    reserved_until: dt.date | None = None  # the reservation lapses after this day


class ErrorOut(BaseModel):
    detail: Any


class LoadGrowth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: Literal["all", "substation", "feeder", "area_class"] = "all"
    id: str | None = Field(None, examples=["sub:S0001", "fd:68", "city_centre"])
    percent: float = Field(strict=True, allow_inf_nan=False, ge=-100, le=500, examples=[8.0])


class SwitchChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    switch: int = Field(strict=True, ge=0)
    closed: StrictBool


class WhatIfIn(BaseModel):
    """A planner's scenario: load growth and switching, applied to a copy of the network."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "load_growth": [{"scope": "area_class", "id": "city_centre", "percent": 8}],
                    "switches": [],
                }
            ]
        },
    )

    load_growth: list[LoadGrowth] = Field(default_factory=list, max_length=100)
    switches: list[SwitchChange] = Field(default_factory=list, max_length=1000)
    level: Literal[
        "main_transformer", "bus_section", "feeder", "segment", "distribution_transformer"
    ] = "feeder"
    # plan and check a project for every element left red (seconds on a large network)
    projects: StrictBool = False
