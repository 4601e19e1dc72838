"""Rule-based openable capacity (规则法可开放容量), the way utilities publish it.

Per element (domain.md §2): ``C1 = limit − present maximum load`` and
``C2 = C1 − in-flight capacity`` (promised to earlier applications, not yet connected);
the published figure of an element or connection point is the minimum C2 along its supply
path ("下级服从上级"); the light is green (C2 > 0), yellow (C2 ≤ 0 < C1) or red (C1 ≤ 0,
or anything upstream red). Limits:

- main transformer: ``sn · K·(n−1)/n`` with n units in the substation (one unit: ``sn``,
  flagged not N-1 secure);
- 10 kV bus section: the sum of the limits of the main transformers feeding it;
- feeder: ``√3 · U · I_allow · λ``, I_allow the weakest trunk conductor at the season's
  rating, λ from the wiring mode (radial 100 %, flagged);
- segment: ``√3 · U · I`` of its weakest conductor;
- distribution transformer: ``sn · λ_dt``.

The present maximum load is the peak over the evaluation period of the sum of the loads
an element supplies (each load's peak times its profile), season by season against that
season's rating. Every number comes from the rules file.

N-1 (N-1 安全), decided here and only here (:func:`n1_secure_of`): an element is N-1 secure
when the N-1 rule does not flag it for want of a backup (``n1_flagged``: a radial feeder,
the only main transformer of a substation and its bus section) and ``C1 ≥ 0`` — its load
is within the N-1 limit, so it can be carried after the outage of any one element the way
the rule assumes. Segments and distribution transformers have no N-1 load rate of their
own: they are never flagged, and secure when within their limit. A connection point is
secure when every element on its supply path is. The AC transfer check
(:func:`capacity.n1_transfer`) reads these figures and does not redefine them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandapower as pp
import pandas as pd
from scipy.sparse import csr_matrix

from capacity._errors import UnknownElementError
from capacity._loads import LoadProfiles, load_profiles
from grid_models import GridModel, Rules, load_rules

Light = Literal["green", "yellow", "red"]
ElementKind = Literal[
    "main_transformer",
    "bus_section",
    "feeder",
    "segment",
    "distribution_transformer",
    "connection_point",
]
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True, slots=True)
class Reservation:
    """In-flight capacity (在途容量): promised at a connection point, not yet connected."""

    connection_point_id: str
    kva: float
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ElementCapacity:
    """One element's openable capacity (kVA) with how it was reached.

    ``n1_flagged``: the N-1 rule flags the element for want of a backup (radial feeder: no
    tie; a substation with one main transformer: the unit and its bus section), so its
    limit has no N-1 reserve (λ = 100 %); a point is flagged when anything on its path is.
    ``n1_secure`` (N-1 安全) ⇔ ``not n1_flagged and c1_kva ≥ 0``, always
    (:func:`n1_secure_of`); in-flight capacity (C2) does not change it.
    """

    id: str
    kind: ElementKind
    name: str
    rating_kva: float
    load_rate_limit: float
    limit_kva: float
    peak_kva: float
    peak_at: str
    c1_kva: float
    inflight_kva: float
    c2_kva: float
    openable_kva: float
    limited_by: str
    light: Light
    n1_secure: bool
    n1_flagged: bool
    substation_id: str | None
    parent_id: str | None
    lon_deg: float = math.nan
    lat_deg: float = math.nan
    area_class: str | None = None

    @property
    def openable_mw(self) -> float:
        """Openable capacity in MW at the rules' power factor is left to the caller; kVA/1000."""
        return self.openable_kva / 1000.0

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, float):
                value = None if math.isnan(value) else round(value, 3)
            out[name] = value
        return out


@dataclass(frozen=True)
class SeasonPeaks:
    """Per element: the rating factor and the highest load (kVA) of each season, and the
    load-rate limit λ — so C1 at another rating is ``min(rating·λ·factor − peak)``."""

    row_of: dict[str, int]
    factors: np.ndarray  # rows × seasons
    peaks: np.ndarray  # rows × seasons, kVA
    load_rate: np.ndarray  # rows

    def c1_kva(self, element_id: str, rating_kva: float) -> float:
        r = self.row_of[element_id]
        limit = rating_kva * float(self.load_rate[r])
        return float(np.min(limit * self.factors[r] - self.peaks[r]))

    def binding_load_kva(self, element_id: str, rating_kva: float) -> float:
        """The load (kVA) at the time C1 binds: the highest load of the season whose margin
        is the smallest — the load C1 was taken from (``C1 = limit·factor − this``)."""
        r = self.row_of[element_id]
        limit = rating_kva * float(self.load_rate[r])
        return float(self.peaks[r, int(np.argmin(limit * self.factors[r] - self.peaks[r]))])


def n1_secure_of(c1_kva: float, n1_flagged: bool) -> bool:
    """N-1 secure (N-1 安全): not flagged for want of a backup, and ``C1 ≥ 0`` (the load is
    within the N-1 limit). The one definition every figure of the package uses."""
    return not n1_flagged and c1_kva >= 0


@dataclass
class RuleCapacity:
    """Rule-based capacity of every element and connection point of one model."""

    model_id: str
    model_version: str
    rules_version: str
    elements: dict[str, ElementCapacity]
    path_of: dict[str, tuple[str, ...]] = field(repr=False)
    #: each connection point's elements from the point up (itself and the substation left out)
    point_paths: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    #: each element's highest load per season and its rating factors (for recomputations)
    seasons: SeasonPeaks | None = field(default=None, repr=False)

    def by_kind(self, kind: str) -> list[ElementCapacity]:
        return [e for e in self.elements.values() if e.kind == kind]

    def openable_kva(self, element_id: str) -> float:
        try:
            return self.elements[element_id].openable_kva
        except KeyError:
            raise UnknownElementError(f"{element_id!r} is not an element of this network") from None


def rule_capacity(
    model: GridModel,
    reservations: Iterable[Reservation] = (),
    *,
    rules: Rules | None = None,
    profiles: LoadProfiles | None = None,
    substations: Iterable[str] | None = None,
) -> RuleCapacity:
    """C1, C2, openable capacity and light for every element and connection point
    (of ``substations`` only, when given: a partition of a distributed sweep — every
    supply path stays inside its substation, so partitions are independent)."""
    rules = rules or load_rules()
    cap_rules = rules.get("capacity")
    profiles = profiles or load_profiles(model.net, rules)
    net = model.net
    bus_pos = pd.Index(net.bus.index)
    vn = net.bus["vn_kv"].to_numpy(float)

    # ---- which loads each element supplies ------------------------------------------
    load_bus = net.load["bus"].to_numpy()
    n_load = len(load_bus)
    rows: list[str] = [
        *model.main_transformers,
        *model.bus_sections,
        *model.feeders,
        *model.segments,
        *model.distribution_transformers,
    ]
    only = set(substations) if substations is not None else None
    if only is not None:
        rows = [eid for eid in rows if _substation_of(model, eid) in only]
    row_of: dict[str, int] = {eid: r for r, eid in enumerate(rows)}
    pairs: list[tuple[int, int, float]] = []
    # a section fed by several main transformers loads them in proportion to their rating
    mt_share: dict[str, list[tuple[int, float]]] = {}
    for sec in model.bus_sections.values():
        units = [model.main_transformers[m] for m in sec.main_transformer_ids]
        total = sum(u.sn_mva for u in units) or 1.0
        mt_share[sec.id] = [(row_of[u.id], u.sn_mva / total) for u in units if u.id in row_of]

    seg_chain: dict[str, tuple[str, ...]] = {}

    def chain(seg: str | None) -> tuple[str, ...]:
        if seg is None:
            return ()
        got = seg_chain.get(seg)
        if got is None:
            parent = model.segments[seg].parent_segment_id
            got = seg_chain[seg] = (seg, *chain(parent))
        return got

    for li, b in enumerate(load_bus.tolist()):
        b = int(b)
        dt = model.lv_bus_transformer.get(b)
        mv_bus = model.distribution_transformers[dt].hv_bus if dt else b
        targets: list[str] = [dt] if dt else []
        targets += chain(model.bus_segment.get(mv_bus))
        feeder = model.bus_feeder.get(mv_bus)
        section = (
            model.feeders[feeder].bus_section_id if feeder else model.bus_section_of_bus.get(mv_bus)
        )
        if feeder:
            targets.append(feeder)
        if section:
            targets.append(section)
            pairs.extend((r, li, share) for r, share in mt_share.get(section, ()))
        pairs.extend((row_of[t], li, 1.0) for t in targets if t in row_of)
    n_rows = len(rows)
    arr = np.asarray(pairs, dtype=float).reshape(-1, 3)
    supply = csr_matrix(
        (arr[:, 2], (arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64))),
        shape=(n_rows, n_load),
    )

    # ---- peak load against the season's rating -----------------------------------------
    weights_p = csr_matrix(
        (profiles.p_mw, (np.arange(n_load), profiles.profile_of)),
        shape=(n_load, profiles.n_profiles),
    )
    weights_q = csr_matrix(
        (profiles.q_mvar, (np.arange(n_load), profiles.profile_of)),
        shape=(n_load, profiles.n_profiles),
    )
    wp = (supply @ weights_p).toarray()
    wq = (supply @ weights_q).toarray()

    limits, ratings, lam, flagged, factor_kind = _limits(model, rows, cap_rules, vn, bus_pos)
    seasons = sorted(set(profiles.season.tolist()))
    season_factor = {s: _season_factors(cap_rules, s) for s in seasons}
    best_margin = np.full(n_rows, np.inf)
    best_t = np.zeros(n_rows, dtype=np.int64)
    peak = np.zeros(n_rows)
    # the highest load of each season: C1 at any other limit L is min over seasons of
    # L·factor − that peak (what a project's recomputation needs, without a sweep)
    season_peak = np.full((n_rows, len(seasons)), -np.inf)
    chunk = 2048
    for start in range(0, profiles.p_prof.shape[1], chunk):
        stop = min(start + chunk, profiles.p_prof.shape[1])
        s_mva = np.hypot(wp @ profiles.p_prof[:, start:stop], wq @ profiles.q_prof[:, start:stop])
        lim = np.empty_like(s_mva)
        for k, s in enumerate(seasons):
            cols = np.flatnonzero(profiles.season[start:stop] == s)
            if len(cols):
                f = np.where(
                    factor_kind == "overhead",
                    season_factor[s][0],
                    np.where(factor_kind == "cable", season_factor[s][1], 1.0),
                )
                lim[:, cols] = (limits * f)[:, None]
                season_peak[:, k] = np.maximum(
                    season_peak[:, k], s_mva[:, cols].max(axis=1) * 1000.0
                )
        margin = lim - s_mva * 1000.0
        t_min = np.argmin(margin, axis=1)
        m_min = margin[np.arange(n_rows), t_min]
        better = m_min < best_margin
        best_margin[better] = m_min[better]
        best_t[better] = t_min[better] + start
        peak = np.maximum(peak, s_mva.max(axis=1) * 1000.0)

    # ---- every element with its C1; then the in-flight reservations -------------------
    path_of: dict[str, tuple[str, ...]] = {
        cp_id: model.supply_path(cp_id) for cp_id in model.connection_points
    }
    parent_of = _parents(model)
    base: dict[str, ElementCapacity] = {}
    for eid in _top_down(rows, parent_of):
        r = row_of[eid]
        c1 = float(best_margin[r]) if math.isfinite(best_margin[r]) else float(limits[r])
        name, sub_id, lon, lat, area = _describe(model, eid)
        parent = parent_of.get(eid)
        base[eid] = ElementCapacity(
            id=eid,
            kind=_kind(eid),
            name=name,
            rating_kva=float(ratings[r]),
            load_rate_limit=float(lam[r]),
            limit_kva=float(limits[r]),
            peak_kva=float(peak[r]),
            peak_at=profiles.label[int(best_t[r])] if len(profiles.label) else "",
            c1_kva=c1,
            inflight_kva=0.0,
            c2_kva=c1,
            openable_kva=c1,
            limited_by=eid,
            light="green",
            n1_secure=n1_secure_of(c1, bool(flagged[r])),
            n1_flagged=bool(flagged[r]),
            substation_id=sub_id,
            parent_id=parent if parent in row_of else None,
            lon_deg=lon,
            lat_deg=lat,
            area_class=area,
        )
    for cp_id, cp in model.connection_points.items():
        if only is not None and cp.substation_id not in only:
            continue
        path = [e for e in path_of[cp_id][1:] if e in base]
        if not path:
            continue
        c1 = min(base[e].c1_kva for e in path)
        cp_flagged = any(base[e].n1_flagged for e in path)
        base[cp_id] = ElementCapacity(
            id=cp_id,
            kind="connection_point",
            name=cp.name,
            rating_kva=math.nan,
            load_rate_limit=math.nan,
            limit_kva=math.nan,
            peak_kva=math.nan,
            peak_at="",
            c1_kva=c1,
            inflight_kva=0.0,
            c2_kva=math.nan,
            openable_kva=math.nan,
            limited_by="",
            light="green",
            n1_secure=n1_secure_of(c1, cp_flagged),
            n1_flagged=cp_flagged,
            substation_id=cp.substation_id,
            parent_id=path[0],
            lon_deg=cp.lon_deg,
            lat_deg=cp.lat_deg,
            area_class=cp.area_class,
        )
    inflight: dict[str, float] = defaultdict(float)
    for res in reservations:
        if res.connection_point_id not in path_of:
            raise UnknownElementError(
                f"reservation {res.reference or ''} names connection point "
                f"{res.connection_point_id!r}, which is not in the network"
            )
        for eid in path_of[res.connection_point_id]:
            inflight[eid] += res.kva
    points = {cp: tuple(e for e in path_of[cp][1:] if e in base) for cp in base if cp in path_of}
    factors = np.array(
        [
            [
                season_factor[s][0]
                if kind == "overhead"
                else season_factor[s][1]
                if kind == "cable"
                else 1.0
                for s in seasons
            ]
            for kind in factor_kind.tolist()
        ],
        dtype=float,
    ).reshape(n_rows, len(seasons))
    base_rc = RuleCapacity(
        model_id=model.id,
        model_version=model.version,
        rules_version=rules.version,
        elements=base,
        path_of=path_of,
        point_paths=points,
        seasons=SeasonPeaks(row_of, factors, season_peak, lam),
    )
    return apply_inflight(base_rc, inflight)


def apply_inflight(base: RuleCapacity, inflight: Mapping[str, float]) -> RuleCapacity:
    """The capacity with ``inflight`` kVA (per element and point id) deducted: C2 = C1 −
    in-flight; an element offers the smaller of its C2 and what its parent offers; a point
    the smallest C2 along its supply path; lights green (C2 > 0), yellow (C2 ≤ 0 < C1),
    red (C1 ≤ 0 or anything upstream red). The one place these rules are applied."""
    result: dict[str, ElementCapacity] = {}
    for eid, e in base.elements.items():  # parents come before their children
        if e.kind == "connection_point":
            continue
        c2 = e.c1_kva - inflight.get(eid, 0.0)
        openable, limited_by, parent_red = c2, eid, False
        up = result.get(e.parent_id) if e.parent_id else None
        if up is not None:
            parent_red = up.light == "red"
            if up.openable_kva < openable:
                openable, limited_by = up.openable_kva, up.limited_by
        light: Light = "red" if e.c1_kva <= 0 or parent_red else ("green" if c2 > 0 else "yellow")
        result[eid] = replace(
            e,
            inflight_kva=inflight.get(eid, 0.0),
            c2_kva=c2,
            openable_kva=openable,
            limited_by=limited_by,
            light=light,
        )
    for cp_id, path in base.point_paths.items():
        e = base.elements[cp_id]
        c1 = min(result[x].c1_kva for x in path)
        c2 = min(result[x].c2_kva for x in path)  # the path already carries its in-flight
        worst = min(path, key=lambda x: result[x].openable_kva)
        red = any(result[x].light == "red" for x in path)
        light = "red" if c1 <= 0 or red else ("green" if c2 > 0 else "yellow")
        result[cp_id] = replace(
            e,
            c1_kva=c1,
            n1_secure=n1_secure_of(c1, e.n1_flagged),
            inflight_kva=inflight.get(cp_id, 0.0),
            c2_kva=c2,
            openable_kva=min(result[worst].openable_kva, c2),
            limited_by=result[worst].limited_by,
            light=light,
        )
    return replace(base, elements=result)


def _substation_of(model: GridModel, eid: str) -> str | None:
    kind = _kind(eid)
    if kind == "main_transformer":
        return model.main_transformers[eid].substation_id
    if kind == "bus_section":
        return model.bus_sections[eid].substation_id
    if kind == "feeder":
        return model.feeders[eid].substation_id
    if kind == "segment":
        return model.feeders[model.segments[eid].feeder_id].substation_id
    dt = model.distribution_transformers[eid]
    return model.feeders[dt.feeder_id].substation_id if dt.feeder_id else None


def _kind(eid: str) -> ElementKind:
    return {
        "mt": "main_transformer",
        "bs": "bus_section",
        "fd": "feeder",
        "seg": "segment",
        "dt": "distribution_transformer",
        "cp": "connection_point",
    }[eid.split(":", 1)[0]]  # type: ignore[return-value]


def _parents(model: GridModel) -> dict[str, str]:
    """The element directly upstream of each element (segment → segment/feeder → section → mt)."""
    parent: dict[str, str] = {}
    for seg in model.segments.values():
        parent[seg.id] = seg.parent_segment_id or seg.feeder_id
    for fd in model.feeders.values():
        parent[fd.id] = fd.bus_section_id
    for sec in model.bus_sections.values():
        if sec.main_transformer_ids:
            # the weakest main transformer of the section bounds it
            parent[sec.id] = sec.main_transformer_ids[0]
    for dt in model.distribution_transformers.values():
        up = model.bus_segment.get(dt.hv_bus) or dt.feeder_id
        if up:
            parent[dt.id] = up
    return parent


def _top_down(rows: Sequence[str], parent_of: dict[str, str]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()
    present = set(rows)

    def visit(eid: str) -> None:
        if eid in seen:
            return
        seen.add(eid)
        p = parent_of.get(eid)
        if p is not None and p in present:
            visit(p)
        order.append(eid)

    for eid in rows:
        visit(eid)
    return order


def _season_factors(cap_rules: dict, season: str) -> tuple[float, float]:
    """(overhead, cable) rating factors for a season; 1.0 where the rules give none."""
    factors = cap_rules.get("seasonal_rating_factors", {})
    oh = factors.get("overhead", {}).get(season, 1.0)
    cb = factors.get("cable", {}).get(season, 1.0)
    return float(oh), float(cb)


def _is_cable(line_type: object) -> bool:
    """pandapower's line type ``cs`` (cable system) takes the cable seasonal factor; every
    other line the overhead one."""
    return str(line_type).startswith("cs")


def line_rating_factors(net: pp.pandapowerNet, cap_rules: dict, season: str) -> np.ndarray:
    """Each line's seasonal rating factor (the one C1 applies): cable or overhead."""
    overhead, cable = _season_factors(cap_rules, season)
    if "type" not in net.line:
        return np.full(len(net.line), overhead)
    is_cable = np.array([_is_cable(t) for t in net.line["type"].tolist()], dtype=bool)
    return np.where(is_cable, cable, overhead)


def _limits(
    model: GridModel, rows: Sequence[str], cap_rules: dict, vn: np.ndarray, bus_pos: pd.Index
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per element row: limit kVA (nominal rating × λ), rating kVA, λ, whether the N-1 rule
    flags it for want of a backup (radial feeder, a substation's only unit and its section)
    and which seasonal factor applies (``overhead``, ``cable`` or ``none``)."""
    net = model.net
    line = net.line
    n = len(rows)
    limits = np.zeros(n)
    ratings = np.zeros(n)
    lam = np.ones(n)
    flagged = np.zeros(n, dtype=bool)
    factor_kind = np.full(n, "none", dtype=object)
    modes = cap_rules["load_rate_limits"]
    k_over = float(cap_rules["main_transformer_overload_factor"])
    dt_rate = float(cap_rules["distribution_transformer_load_rate"])
    n_units: dict[str, int] = defaultdict(int)
    for m in model.main_transformers.values():
        n_units[m.substation_id] += 1
    line_pos = pd.Index(line.index)
    imax = line["max_i_ka"].to_numpy(float)
    types = line["type"].to_numpy() if "type" in line else None

    def cable(pos: int) -> bool:
        return types is not None and _is_cable(types[pos])

    feeders = [e for e in rows if e.startswith("fd:")]
    trunk = trunk_lines(model, feeders) if len(feeders) < len(model.feeders) else trunk_lines(model)
    for r, eid in enumerate(rows):
        kind = _kind(eid)
        if kind == "main_transformer":
            m = model.main_transformers[eid]
            units = n_units[m.substation_id]
            ratings[r] = m.sn_mva * 1000.0
            lam[r] = 1.0 if units <= 1 else k_over * (units - 1) / units
            flagged[r] = units <= 1
        elif kind == "bus_section":
            sec = model.bus_sections[eid]
            feeding = [model.main_transformers[m] for m in sec.main_transformer_ids]
            n_sub = n_units[sec.substation_id]
            ratings[r] = sum(u.sn_mva for u in feeding) * 1000.0
            lam[r] = 1.0 if n_sub <= 1 else k_over * (n_sub - 1) / n_sub
            flagged[r] = n_sub <= 1
        elif kind == "feeder":
            fd = model.feeders[eid]
            pos = line_pos.get_indexer(list(trunk.get(eid, (fd.head_line,))))
            weakest = int(pos[np.argmin(imax[pos])])
            u_kv = float(vn[bus_pos.get_loc(fd.head_bus)])
            ratings[r] = _SQRT3 * u_kv * imax[weakest] * 1000.0
            lam[r] = float(modes[fd.wiring_mode])
            flagged[r] = fd.wiring_mode == "radial"  # no tie
            factor_kind[r] = "cable" if cable(weakest) else "overhead"
        elif kind == "segment":
            seg = model.segments[eid]
            pos = line_pos.get_indexer(list(seg.lines))
            weakest = int(pos[np.argmin(imax[pos])])
            u_kv = float(vn[bus_pos.get_loc(seg.buses[0])])
            ratings[r] = _SQRT3 * u_kv * imax[weakest] * 1000.0
            factor_kind[r] = "cable" if cable(weakest) else "overhead"
        elif kind == "distribution_transformer":
            ratings[r] = model.distribution_transformers[eid].sn_kva
            lam[r] = dt_rate
        limits[r] = ratings[r] * lam[r]
    return limits, ratings, lam, flagged, factor_kind


def trunk_lines(
    model: GridModel, feeder_ids: Iterable[str] | None = None
) -> dict[str, tuple[int, ...]]:
    """Each feeder's trunk (主干线): the lines from its head to its tie points, or to its
    farthest bus when it has no tie (of ``feeder_ids`` only, when given); found once per
    feeder and kept with the model."""
    known: dict[str, tuple[int, ...]] = model.__dict__.setdefault("_trunks", {})
    wanted_ids = list(model.feeders) if feeder_ids is None else list(feeder_ids)
    missing = [f for f in wanted_ids if f not in known]
    if missing:
        known.update(_trunks(model, missing))
    return {f: known[f] for f in wanted_ids}


def _trunks(model: GridModel, feeder_ids: Sequence[str]) -> dict[str, tuple[int, ...]]:
    net = model.net
    line = net.line
    tie_buses: dict[str, list[int]] = defaultdict(list)
    for t in model.tie_switches.values():
        for bus, side in ((t.bus_a, t.side_a), (t.bus_b, t.side_b)):
            if side and side.startswith("fd:"):
                tie_buses[side].append(bus)
    lf = line["from_bus"].to_numpy()
    lt = line["to_bus"].to_numpy()
    length = line["length_km"].to_numpy(float)
    out: dict[str, tuple[int, ...]] = {}
    line_pos = pd.Index(line.index)
    for fd in (model.feeders[f] for f in feeder_ids):
        adj: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
        pos = line_pos.get_indexer(list(fd.lines))
        for p in pos.tolist():
            a, b = int(lf[p]), int(lt[p])
            adj[a].append((b, p, length[p]))
            adj[b].append((a, p, length[p]))
        start = fd.head_bus
        via: dict[int, tuple[int, int]] = {start: (-1, -1)}
        dist = {start: 0.0}
        queue = [start]
        while queue:
            u = queue.pop()
            for w, p, ln in adj[u]:
                if w not in via:
                    via[w] = (u, p)
                    dist[w] = dist[u] + ln
                    queue.append(w)
        ends = [b for b in tie_buses.get(fd.id, []) if b in via]
        mv_buses = [b for b in via if b in model.bus_feeder and b != start]
        if not ends and mv_buses:
            ends = [max(mv_buses, key=lambda b: dist[b])]
        trunk: set[int] = set()
        for end in ends:
            x = end
            while via[x][0] >= 0:
                trunk.add(int(line.index[via[x][1]]))
                x = via[x][0]
        out[fd.id] = tuple(sorted(trunk)) or (fd.head_line,)
    return out


def _describe(model: GridModel, eid: str) -> tuple[str, str | None, float, float, str | None]:
    """Name, substation, position and area class of an element."""
    kind = _kind(eid)
    if kind == "main_transformer":
        m = model.main_transformers[eid]
        s = model.substations[m.substation_id]
        return m.name, s.id, s.lon_deg, s.lat_deg, None
    if kind == "bus_section":
        sec = model.bus_sections[eid]
        s = model.substations[sec.substation_id]
        return sec.name, s.id, s.lon_deg, s.lat_deg, None
    if kind == "feeder":
        fd = model.feeders[eid]
        s = model.substations[fd.substation_id]
        return fd.name, s.id, s.lon_deg, s.lat_deg, None
    if kind == "segment":
        seg = model.segments[eid]
        fd = model.feeders[seg.feeder_id]
        cp = model.connection_points.get(f"cp:{seg.buses[-1]}")
        lon, lat = (cp.lon_deg, cp.lat_deg) if cp else (math.nan, math.nan)
        return f"{fd.name} {seg.id}", fd.substation_id, lon, lat, None
    dt = model.distribution_transformers[eid]
    fd_sub = model.feeders[dt.feeder_id].substation_id if dt.feeder_id else None
    cp = model.connection_points.get(f"cp:{dt.hv_bus}")
    lon, lat = (cp.lon_deg, cp.lat_deg) if cp else (math.nan, math.nan)
    return dt.name, fd_sub, lon, lat, cp.area_class if cp else None


def path_after(
    model: GridModel,
    base: RuleCapacity,
    reserved: Mapping[str, float],
    connection_point_id: str,
    rules: Rules,
) -> dict[str, ElementCapacity]:
    """The elements on a point's supply path with the ratings ``model`` gives them now (a
    network with projects built: same topology and loads, other conductors or
    transformers), their C1 recomputed exactly from each season's peak, C2 after
    ``reserved`` — what :func:`rule_capacity` on ``model`` would answer for them, in the
    path's length."""
    assert base.seasons is not None
    path = list(base.point_paths[connection_point_id])
    net = model.net
    _, ratings, _, _, _ = _limits(
        model,
        path,
        rules.get("capacity"),
        net.bus["vn_kv"].to_numpy(float),
        pd.Index(net.bus.index),
    )
    out: dict[str, ElementCapacity] = {}
    for eid, rating in zip(path, ratings.tolist(), strict=True):
        e = base.elements[eid]
        c1 = base.seasons.c1_kva(eid, float(rating))
        out[eid] = replace(
            e,
            rating_kva=float(rating),
            limit_kva=float(rating) * e.load_rate_limit,
            c1_kva=c1,
            n1_secure=n1_secure_of(c1, e.n1_flagged),
            inflight_kva=reserved.get(eid, 0.0),
            c2_kva=c1 - reserved.get(eid, 0.0),
        )
    return out
