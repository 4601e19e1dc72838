"""The FastAPI application: routes, error mapping, the customer page."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import OperationalError

from api._db import Database
from api._http import BodyGuard, ResponseGuard
from api._limits import RateLimited, RateLimits
from api._schemas import (
    ApplicationCreatedOut,
    ApplicationIn,
    ApplicationOut,
    CapacityAdviceIn,
    ErrorOut,
    SelectIn,
    StatusOut,
    WhatIfIn,
)
from api._service import (
    Conflict,
    Forbidden,
    NotFound,
    PlannerForbidden,
    PlannerUnauthorized,
    Service,
    Starting,
    Unauthorized,
    UnknownOption,
    what_if,
)
from capacity import (
    CapacityError,
    ScenarioError,
    capacity_rows,
    public_only,
    rows_to_geojson,
)
from grid_models import (
    GridModel,
    bus_positions,
    geodesic_m,
    load_rules,
    to_geojson,
)
from scheme_generator import (
    InvalidApplicationError,
    SchemeError,
    advise_capacity,
    published_rules,
    render_reply_sheet,
)

DEFAULT_DATABASE_URL = f"sqlite:///{Path('data') / 'gridcap.sqlite3'}"
PLANNER_KEYS_ENV = "GRIDCAP_PLANNER_API_KEY"
STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("gridcap.api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing credentials"},
    413: {"model": ErrorOut, "description": "a body above the size limit"},
    415: {"model": ErrorOut, "description": "a body that is not declared as JSON"},
    429: {"model": ErrorOut, "description": "too many requests from this client (Retry-After)"},
    403: {"model": ErrorOut, "description": "credentials that do not reach this application"},
    404: {"model": ErrorOut, "description": "unknown application"},
    409: {"model": ErrorOut, "description": "state or capacity conflict"},
    422: {"model": ErrorOut, "description": "invalid fields, each named with the reason"},
    503: {"model": ErrorOut, "description": "database unavailable"},
}


def create_app(
    model: GridModel, *, database_url: str | None = None, wait_ready: bool = True
) -> FastAPI:
    """The service for one loaded network and one database (migrated at start-up).

    At start-up the network's capacity is computed and the ledger applied before the
    service answers schemes; with ``wait_ready`` False (``gridcap serve``) that runs in the
    background while ``/health`` says ``starting`` and other requests get 503."""
    rules = load_rules()
    db = Database(database_url or os.environ.get("GRIDCAP_DATABASE_URL") or DEFAULT_DATABASE_URL)
    db.migrate()
    keys = tuple(k.strip() for k in os.environ.get(PLANNER_KEYS_ENV, "").split(",") if k.strip())
    service = Service(model, db, rules, keys)
    limits = RateLimits.from_settings(rules.get("service.rate_limits"))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = int(rules.get("service.request_threads"))
        worker = threading.Thread(target=service.start, name="gridcap-start", daemon=True)
        worker.start()
        if wait_ready:
            await asyncio.to_thread(worker.join)
            if service.failed:
                raise RuntimeError(f"the service could not start: {service.failed}")
        yield
        service.stop()

    # the documentation pages' scripts and styles come from the package, not a CDN
    web = FastAPIOffline(
        title="gridcap",
        version="0.1.0",
        description="Openable capacity and automatic supply schemes (业扩报装).",
        lifespan=lifespan,
    )
    web.state.service = service
    web.state.limits = limits  # replaceable (tests set their own rates)
    web.add_middleware(BodyGuard)
    web.add_middleware(ResponseGuard)

    def limited(kind: str) -> Any:
        """A dependency counting the request against the client's rate of ``kind``; it
        runs before the body is validated."""

        def check(request: Request) -> None:
            current: RateLimits | None = web.state.limits
            if current is not None:
                current.hit(kind, request.client.host if request.client else "unknown")

        return Depends(check)

    def planner_key(x_api_key: Annotated[str | None, Header()] = None) -> str:
        """A planner's key, checked before the body is validated."""
        if not service.is_planner(x_api_key):
            raise PlannerForbidden() if x_api_key else PlannerUnauthorized()
        return str(x_api_key)

    @web.exception_handler(RateLimited)
    async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(
            {"detail": f"{exc}; try again in {exc.retry_after} s"},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @web.exception_handler(PlannerUnauthorized)
    async def _planner_unauthorised(_: Request, __: PlannerUnauthorized) -> JSONResponse:
        return JSONResponse(
            {"detail": "this is a planner's request: send a planner's key as 'X-API-Key: KEY'"},
            status_code=401,
        )

    @web.exception_handler(PlannerForbidden)
    async def _planner_forbidden(_: Request, __: PlannerForbidden) -> JSONResponse:
        return JSONResponse(
            {"detail": "the X-API-Key sent is not a planner's key"}, status_code=403
        )

    @web.exception_handler(UnknownOption)
    async def _unknown_option(_: Request, exc: UnknownOption) -> JSONResponse:
        return JSONResponse(
            {"detail": f"the scheme has no option {exc.option_id!r}"}, status_code=404
        )

    @web.exception_handler(Starting)
    async def _starting(_: Request, __: Starting) -> JSONResponse:
        return JSONResponse(
            {"detail": "the service is computing the network's capacity; try again shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @web.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p != "body"]
            if err.get("type") == "json_invalid":
                detail.append({"field": "body", "msg": "the body is not valid JSON"})
                continue
            detail.append({"field": ".".join(loc) or "body", "msg": _message(err)})
        return JSONResponse({"detail": detail}, status_code=422)

    @web.exception_handler(InvalidApplicationError)
    async def _invalid_app(_: Request, exc: InvalidApplicationError) -> JSONResponse:
        return JSONResponse(
            {"detail": [{"field": p.field, "msg": p.reason} for p in exc.problems]}, status_code=422
        )

    @web.exception_handler(NotFound)
    async def _not_found(_: Request, __: NotFound) -> JSONResponse:
        return JSONResponse({"detail": "no application with that id"}, status_code=404)

    @web.exception_handler(Unauthorized)
    async def _unauthorised(_: Request, __: Unauthorized) -> JSONResponse:
        return JSONResponse(
            {"detail": "send the application's access token as 'Authorization: Bearer TOKEN'"},
            status_code=401,
        )

    @web.exception_handler(Forbidden)
    async def _forbidden(_: Request, __: Forbidden) -> JSONResponse:
        return JSONResponse(
            {"detail": "these credentials do not give access to this application"}, status_code=403
        )

    @web.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message, "capacity_left_kva": exc.capacity_left_kva}, status_code=409
        )

    @web.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            {"detail": "the database is unavailable; try again shortly"}, status_code=503
        )

    @web.exception_handler(ScenarioError)
    async def _scenario(_: Request, exc: ScenarioError) -> JSONResponse:
        return JSONResponse(
            {"detail": [{"field": p.split(":")[0], "msg": p} for p in exc.problems]},
            status_code=422,
        )

    @web.exception_handler(CapacityError)
    async def _capacity(_: Request, exc: CapacityError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @web.exception_handler(SchemeError)
    async def _scheme(_: Request, exc: SchemeError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    def bearer(authorization: str | None) -> str | None:
        if authorization and authorization.lower().startswith("bearer "):
            return authorization[7:].strip() or None
        return None

    @web.get("/health", summary="Liveness, the loaded network and the database")
    def health() -> dict[str, Any]:
        try:
            db.ping()
            database = "ok"
        except OperationalError:
            database = "unavailable"
        status = "ok" if service.ready.is_set() else ("failed" if service.failed else "starting")
        return {
            "status": status,
            "network": {"id": model.id, "version": model.version},
            "rules_version": rules.version,
            "database": database,
            "feeders": len(model.feeders),
        }

    @web.get("/api/v1/capacity", summary="Openable capacity per element (C1, C2, light)")
    def capacity(
        level: Annotated[
            str,
            Query(
                description="main_transformer|bus_section|feeder|segment|"
                "transformer|bus|connection_point"
            ),
        ] = "feeder",
        format: Annotated[str, Query(pattern="^(json|geojson)$")] = "json",  # noqa: A002
        summary: Annotated[str | None, Query(pattern="^(substation|area_class)$")] = None,
        voltage: Annotated[
            str,
            Query(
                pattern="^(mv|lv|all)$",
                description="level=bus: the MV buses, the LV buses (低压) or both; lv and all "
                "are paged and their rows carry vn_kv",
            ),
        ] = "mv",
        limit: Annotated[
            int | None, Query(ge=1, le=10_000, description="rows per page (paged: 1000)")
        ] = None,
        offset: Annotated[int | None, Query(ge=0, description="rows skipped")] = None,
        *,
        request: Request,
        response: Response,
    ) -> Any:
        from capacity import CriteriaError, hosting_buses, private_buses

        ctx = service.context()
        # Paging keeps the list body; X-Total-Count and Link say the rest (docs/capacity.md).
        # A request without limit/offset gets every row as before, except voltage lv/all.
        paged = limit is not None or offset is not None or voltage != "mv"
        first, size = offset or 0, limit or 1000
        total: int | None = None
        if voltage != "mv" and level != "bus":
            raise CriteriaError("voltage chooses buses: use level=bus")
        if level == "connection_point":
            rows: list[dict[str, Any]] = []
            for p in ctx.points.values():
                row = p.to_dict()
                element = ctx.rule_cap.elements.get(p.id) if ctx.rule_cap else None
                row["c1_kva"] = element.c1_kva if element else None
                row["c2_kva"] = element.c2_kva if element else None
                rows.append(row)
        else:
            method = "powerflow" if level == "bus" else "rules"
            page = None
            if level == "bus" and paged:  # only the page's buses are searched
                hidden = private_buses(model)  # customers' own networks: never published
                targets = [b for b in hosting_buses(model.net, voltage) if b not in hidden]
                total, page = len(targets), targets[first : first + size]
            rows = capacity_rows(
                model,
                level,
                method,
                _criteria(),
                reservations=list(ctx.reservations),
                summary=summary,
                rule_cap=ctx.rule_cap,
                voltage=voltage,
                buses=page,
            )
        # the public grid's capacity only: no customer-owned transformer (专变) or below
        rows = [{k: _finite(v) for k, v in r.items()} for r in public_only(model, rows)]
        if total is None:
            total = len(rows)
            if paged:
                rows = rows[first : first + size]
        response.headers["X-Total-Count"] = str(total)
        if paged:
            links = []
            if first + size < total:
                after = request.url.include_query_params(offset=first + size, limit=size)
                links.append(f'<{after}>; rel="next"')
            if first > 0:
                back = max(min(first, total) - size, 0)  # past the end: the last page
                before = request.url.include_query_params(offset=back, limit=size)
                links.append(f'<{before}>; rel="prev"')
            if links:
                response.headers["Link"] = ", ".join(links)
        if format == "geojson":
            if level == "bus":
                pos = bus_positions(model.net)
                rows = [
                    {**r, "lon_deg": pos[r["bus"]][0], "lat_deg": pos[r["bus"]][1]} for r in rows
                ]
            return rows_to_geojson(rows, f"capacity_{level}")
        return rows

    @web.get(
        "/api/v1/capacity/publication",
        summary="Openable capacity as published: by substation, area and feeder",
    )
    def publication() -> dict[str, Any]:
        """The seed's 三(二)4 publication: openable capacity of the public grid that adds
        up (a substation publishes at most what its main transformers can take; areas
        publish their largest single figure, which is not additive), each row with what
        binds it and when it was computed; the corridors (电力管廊通道) are in
        /api/v1/network.geojson."""
        ctx = service.context()
        from capacity import district_total, public_only, substation_parents, summarise

        computed_at = service.computed_at()
        points = public_only(model, ctx.points.values())
        parents = substation_parents(ctx.rule_cap) if ctx.rule_cap else {}
        feeders = ctx.rule_cap.by_kind("feeder") if ctx.rule_cap else []
        return {
            "published_on": service.today().isoformat(),
            "computed_at": computed_at,
            "network": {"id": model.id, "version": model.version},
            "rules_version": rules.version,
            "in_flight_reservations": len(ctx.reservations),
            "district": {
                "openable_kva": district_total(parents),
                "limited_by": "main_transformers",
                "openable_kva_max": round(max((p.openable_kva for p in points), default=0.0), 1),
            },
            "by_substation": summarise(points, "substation", parents, computed_at),
            "by_area_class": summarise(points, "area_class", None, computed_at),
            # 电力管廊通道 and the roads new lines follow (geometry: /api/v1/network.geojson);
            # worked out once just after start-up (empty for the first seconds)
            "corridors": service.corridors or [],
            "feeders": [
                {
                    "id": f.id,
                    "name": f.name,
                    "substation_id": f.substation_id,
                    "openable_kva": _finite(round(f.openable_kva, 1)),
                    "light": f.light,
                    "limited_by": f.limited_by,
                }
                for f in feeders
            ],
        }

    @web.get(
        "/api/v1/planning",
        summary="The grid plan (电网规划): planned projects, their year and the capacity "
        "each adds (recomputed)",
    )
    def planning(response: Response) -> Any:
        service.context()
        status = "ready" if service.plan is not None else "computing"
        if service.plan_failed:
            status = "failed"
        elif service.plan is None:
            response.headers["Retry-After"] = "5"  # worked out just after start-up
        return {
            "status": status,
            "network": {"id": model.id, "version": model.version},
            "projects": service.plan or [],
        }

    @web.get("/api/v1/rules", summary="Published business rules (公开办电信息)")
    def rules_endpoint() -> dict[str, Any]:
        return published_rules(rules)

    @web.get("/api/v1/capacity/nearby", summary="Connection points near a place, with C2")
    def nearby(
        lon: Annotated[float, Query(ge=-180, le=180)],
        lat: Annotated[float, Query(ge=-90, le=90)],
        radius_m: Annotated[float, Query(gt=0, le=50_000)] = 1000,
    ) -> dict[str, Any]:
        ctx = service.context()
        dist = geodesic_m(lon, lat, ctx.lon, ctx.lat)
        points = []
        for i in [int(k) for k in dist.argsort()]:
            if not dist[i] <= radius_m:
                break
            p = ctx.points[ctx.ids[i]]
            points.append(
                {
                    "id": p.id,
                    "name": p.name,
                    "kind": p.kind,
                    "openable_kva": _finite(round(p.openable_kva, 1)),
                    "light": p.light,
                    "feeder_id": p.feeder_id,
                    "distance_m": round(float(dist[i]), 1),
                }
            )
        return {"points": points}

    @web.get("/api/v1/network.geojson", summary="The network for maps")
    def network_geojson() -> Response:
        return Response(
            json.dumps(_network_geojson(model), ensure_ascii=False, allow_nan=False),
            media_type="application/geo+json",
        )

    @web.post(
        "/api/v1/schemes/preview", summary="A scheme; nothing stored or reserved", responses=_ERRORS
    )
    def preview(body: ApplicationIn, _: None = limited("preview")) -> dict[str, Any]:
        return service.preview(body.to_domain_dict())

    @web.post(
        "/api/v1/advice/capacity",
        summary="Applied capacity, voltage and transformers from a list of loads (容量测算)",
        responses=_ERRORS,
    )
    def advise(body: CapacityAdviceIn, _: None = limited("preview")) -> dict[str, Any]:
        return advise_capacity(body.to_domain_list(), rules=rules).to_dict()

    @web.post(
        "/api/v1/applications",
        status_code=201,
        response_model=ApplicationCreatedOut,
        summary="Store an application; returns its schemes and an access token",
        responses=_ERRORS,
    )
    def apply(body: ApplicationIn, _: None = limited("apply")) -> ApplicationCreatedOut:
        app_id, token, scheme = service.apply(body.to_domain_dict())
        return ApplicationCreatedOut(
            application_id=app_id, access_token=token, status="scheme_offered", scheme=scheme
        )

    @web.get(
        "/api/v1/applications/{app_id}",
        response_model=ApplicationOut,
        summary="The application, its scheme and status",
        responses=_ERRORS,
    )
    def get_application(
        app_id: str,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        return service.get(app_id, bearer(authorization), x_api_key)

    @web.post(
        "/api/v1/applications/{app_id}/select",
        response_model=StatusOut,
        summary="Choose an option: reserves its capacity, 409 if it is gone",
        responses=_ERRORS,
    )
    def select_option(
        app_id: str,
        body: SelectIn,
        authorization: Annotated[str | None, Header()] = None,
        _: None = limited("select"),
    ) -> dict[str, Any]:
        return service.select_option(app_id, bearer(authorization), body.option_id)

    @web.post(
        "/api/v1/applications/{app_id}/cancel",
        response_model=StatusOut,
        summary="Release what the application reserved",
        responses=_ERRORS,
    )
    def cancel(
        app_id: str,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
        _: None = limited("cancel"),
    ) -> dict[str, Any]:
        return service.cancel(app_id, bearer(authorization), x_api_key)

    @web.post(
        "/api/v1/applications/{app_id}/energise",
        response_model=StatusOut,
        summary="Planner: the customer is connected (装表接电)",
        responses=_ERRORS,
    )
    def energise(app_id: str, x_api_key: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        return service.energise(app_id, x_api_key)

    @web.get(
        "/api/v1/planner/warnings",
        responses=_ERRORS,
        summary="Planner: open applications by warning level (预警督办)",
    )
    def planner_warnings(
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> list[dict[str, Any]]:
        return service.warnings(x_api_key)

    @web.get(
        "/api/v1/planner/restricted",
        responses=_ERRORS,
        summary="Planner: constrained customers and their report dates",
    )
    def planner_restricted(
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> list[dict[str, Any]]:
        return service.restricted(x_api_key)

    @web.post(
        "/api/v1/what-if",
        summary="Planner: run a scenario, return the capacity diff",
        responses=_ERRORS,
        dependencies=[Depends(planner_key)],
    )
    def run_what_if(body: WhatIfIn, _: None = limited("what_if")) -> dict[str, Any]:
        return what_if(model, rules, body, service.context().reservations)

    @web.get(
        "/api/v1/applications/{app_id}/reply-sheet",
        response_class=HTMLResponse,
        summary="The customer's document: HV reply sheet (供电方案答复单) or LV notice "
        "(供电方案告知书); audience=planner adds the internal figures (planner key)",
        responses=_ERRORS,
    )
    def reply_sheet(
        app_id: str,
        option_id: Annotated[str | None, Query(max_length=4)] = None,
        audience: Annotated[str, Query(pattern="^(customer|planner)$")] = "customer",
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> HTMLResponse:
        if audience == "planner" and not service.is_planner(x_api_key):
            raise PlannerForbidden() if x_api_key else PlannerUnauthorized()
        data = service.get(app_id, bearer(authorization), x_api_key)
        ids = [o["option_id"] for o in data["scheme"].get("options", [])]
        if option_id is not None and option_id not in ids:
            raise UnknownOption(option_id)
        return HTMLResponse(
            render_reply_sheet(
                data["scheme"],
                option_id or data.get("selected_option"),
                audience=audience,
                application_id=app_id,
                reply_date=_reply_date(data),
            )
        )

    if STATIC.is_dir():
        web.mount("/static", StaticFiles(directory=STATIC), name="static")

        @web.get("/", include_in_schema=False)
        def index() -> FileResponse:
            return FileResponse(STATIC / "index.html")

    return web


def app_from_env() -> FastAPI:
    """Factory for several server processes (``gridcap serve --workers N``): the network and
    database come from ``GRIDCAP_NETWORK`` and ``GRIDCAP_DATABASE_URL``."""
    from grid_models import DEFAULT_NETWORK, load_model

    model = load_model(os.environ.get("GRIDCAP_NETWORK", DEFAULT_NETWORK))
    return create_app(model, database_url=os.environ.get("GRIDCAP_DATABASE_URL"), wait_ready=False)


def _criteria() -> Any:
    from capacity import HostingCriteria

    return HostingCriteria.from_rules()


def _reply_date(data: dict[str, Any]) -> str | None:
    """The day the scheme was answered: when the application was stored."""
    events = data.get("events") or []
    return str(events[0]["at"])[:10] if events else None


def _message(err: Any) -> str:
    """Pydantic's message, with the reason a person needs where it is terse."""
    kind = str(err.get("type", ""))
    if kind == "finite_number":
        return "must be a finite number"
    if kind in ("float_type", "int_type", "float_parsing", "int_parsing"):
        return "must be a JSON number (not text, true/false or null)"
    if kind == "bool_type":
        return "must be true or false"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    return str(err.get("msg", "invalid"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _network_geojson(model: GridModel) -> dict[str, Any]:
    return to_geojson(model, kinds=("area", "substation", "line", "corridor"))
