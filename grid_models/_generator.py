"""Seeded generator of realistic Chinese 10 kV distribution networks (配电网生成器).

``generate_network(params)`` lays out one or more cities (centre, urban ring, towns,
a provincial-level park, a planning area) in a local km frame, places 110/10 kV
substations with 2–3 main transformers and one 10 kV bus section per transformer, and
grows feeders from every section:

- substations in the city centre / urban area feed **cable** feeders: chains of
  ring-main units (环网柜) closed into single rings with feeders of the other section or of
  a neighbouring substation, double rings (双环网, two feeders through double RMUs) in
  the centre, and a few customer dedicated lines (专线);
- substations in towns / rural areas feed **overhead** feeders: pole trunks with
  sectionalising switches, branch lines, pole-mounted transformers, and 0–3 ties
  (one open pole switch each) to feeders of neighbouring substations or of the
  other section;
- distribution transformers (public 公变 / customer 专变) with loads, and for a share
  of the public ones a small LV network to LV branch boxes;
- a town without a substation of its own gets an overhead feeder from the nearest one;
- an LV density pass (``_generator_lv``) then adds branch boxes, and public transformers
  where none is near, until where people live is within the LV supply radius of its area
  class (rules file ``scheme.candidates.supply_radius_m.lv``), moving load rather than
  adding it;
- a corridor layer (``_generator_corridors``): street lattices, main and rural roads, a
  river and a railway per city, and every line's route, as ``net["gridcap_corridors"]``.

Feeder peak loads are sized from the feeder's wiring mode: most feeders sit between
30 % and their N-1 limit (single tie / ring 50 %, two ties 67 %, three ties 75 %,
radial 80 %), a few percent are deliberately above it so that capacity constraints
occur, and long overhead feeders are held back by a voltage-drop budget. Everything is
drawn from one ``numpy.random.default_rng(seed)``: the same parameters always give the
same net (byte-identical ``pandapower.to_json``).

Column conventions: see ``docs/network-model.md``.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import pandapower as pp

from grid_models._catalogue import load_catalogue
from grid_models._errors import GeneratorParameterError
from grid_models._generator_grid import GridBuilder
from grid_models._generator_profiles import typical_day_profiles
from grid_models._generator_tables import build_net

__all__ = [
    "GENERATOR_VERSION",
    "PRESETS",
    "GeneratorParams",
    "anyang_params",
    "generate_network",
    "preset",
]

GENERATOR_VERSION = "2"  # 2: towns get feeders, LV density pass, corridors

_MAX_SUBSTATIONS = 5000


@dataclass(frozen=True)
class GeneratorParams:
    """Everything the generator needs; validated on construction.

    Shares are fractions in [0, 1]; ranges are ``(low, high)`` tuples. The defaults give a
    plausible Henan-like network; presets in :data:`PRESETS` only change the size.
    """

    name: str
    seed: int
    centre_lon_deg: float
    centre_lat_deg: float
    n_cities: int
    substations_per_city: int
    #: towns (镇) around each city, 10–22 km from its centre
    towns_per_city: int = 5
    #: distance between neighbouring city centres (cities sit on a jittered grid)
    city_spacing_km: float = 60.0
    #: names for the first cities (e.g. ``("安阳",)``); the rest are composed
    city_names: tuple[str, ...] = ()
    #: share of a city's substations in the centre / urban area (cable feeders)
    urban_substation_share: float = 0.5
    #: feeders per 10 kV bus section: (min, max); the count follows the main transformer size
    feeders_per_section: tuple[int, int] = (4, 8)
    #: target peak loading of main transformers used to choose the feeder count
    main_transformer_loading: tuple[float, float] = (0.45, 0.70)
    #: share of city-centre cable feeders built as double rings (双环网)
    double_ring_share: float = 0.4
    #: share of cable feeders that are radial customer dedicated lines (专线)
    dedicated_line_share: float = 0.04
    #: probabilities of 0, 1, 2, 3 ties wished for an overhead feeder
    overhead_tie_weights: tuple[float, float, float, float] = (0.15, 0.45, 0.28, 0.12)
    #: share of customer-owned (专变) distribution transformers (adjusted by area)
    customer_transformer_share: float = 0.3
    #: share of public transformers with a modelled LV network to LV branch boxes
    lv_network_share: float = 0.3
    #: normal feeder peak loading range, fraction of the head conductor's thermal limit
    feeder_loading: tuple[float, float] = (0.30, 0.80)
    #: share of feeders deliberately loaded above their N-1 limit
    over_n1_share: float = 0.08
    #: share of lightly loaded feeders (12–28 %), e.g. recently commissioned
    light_feeder_share: float = 0.05
    #: peak utilisation range of distribution transformers (fraction of rating)
    dt_utilisation: tuple[float, float] = (0.35, 0.82)
    #: densify LV networks so that where people live is within the LV supply radius of a
    #: branch box (radii from the rules file); False keeps the sparse build
    lv_density: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        _validate(self)

    def to_json_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON values (tuples become lists)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, tuple):
                value = [v.item() if isinstance(v, np.generic) else v for v in value]
            elif isinstance(value, np.generic):
                value = value.item()
            out[key] = value
        return out


def _fail(field: str, reason: str) -> GeneratorParameterError:
    return GeneratorParameterError(f"GeneratorParams.{field}: {reason}")


def _int(p: GeneratorParams, field: str, lo: int, hi: int) -> None:
    v = getattr(p, field)
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise _fail(field, f"must be an integer, got {v!r}")
    if not lo <= v <= hi:
        raise _fail(field, f"must be between {lo} and {hi}, got {v}")


def _float(p: GeneratorParams, field: str, lo: float, hi: float) -> None:
    v = getattr(p, field)
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise _fail(field, f"must be a number, got {v!r}")
    if not math.isfinite(float(v)) or not lo <= float(v) <= hi:
        raise _fail(field, f"must be between {lo} and {hi}, got {v}")


def _range(p: GeneratorParams, field: str, lo: float, hi: float, integer: bool = False) -> None:
    v = getattr(p, field)
    if not isinstance(v, tuple) or len(v) != 2:
        raise _fail(field, f"must be a (low, high) pair, got {v!r}")
    for x in v:
        ok = isinstance(x, int | np.integer) if integer else isinstance(x, int | float)
        if isinstance(x, bool) or not ok or not math.isfinite(float(x)):
            kind = "integers" if integer else "numbers"
            raise _fail(field, f"must hold two {kind}, got {v!r}")
    a, b = float(v[0]), float(v[1])
    if not (lo <= a <= b <= hi):
        raise _fail(field, f"must satisfy {lo} <= low <= high <= {hi}, got {v!r}")


def _validate(p: GeneratorParams) -> None:
    if not isinstance(p.name, str) or not p.name.strip():
        raise _fail("name", "must be a non-empty string")
    _int(p, "seed", 0, 2**63 - 1)
    _float(p, "centre_lon_deg", -180.0, 180.0)
    _float(p, "centre_lat_deg", -70.0, 70.0)
    _int(p, "n_cities", 1, 500)
    _int(p, "substations_per_city", 1, 200)
    if p.n_cities * p.substations_per_city > _MAX_SUBSTATIONS:
        raise _fail(
            "substations_per_city",
            f"n_cities × substations_per_city must be at most {_MAX_SUBSTATIONS}, "
            f"got {p.n_cities * p.substations_per_city}",
        )
    _int(p, "towns_per_city", 0, 12)
    _float(p, "city_spacing_km", 30.0, 500.0)
    if not isinstance(p.city_names, tuple) or not all(
        isinstance(n, str) and n.strip() for n in p.city_names
    ):
        raise _fail("city_names", "must be a tuple of non-empty strings")
    if len(p.city_names) > p.n_cities:
        raise _fail("city_names", f"has {len(p.city_names)} names for {p.n_cities} cities")
    if len(set(p.city_names)) != len(p.city_names):
        raise _fail("city_names", "names must be distinct")
    _float(p, "urban_substation_share", 0.0, 1.0)
    _range(p, "feeders_per_section", 1, 12, integer=True)
    _range(p, "main_transformer_loading", 0.05, 1.0)
    _float(p, "double_ring_share", 0.0, 1.0)
    _float(p, "dedicated_line_share", 0.0, 1.0)
    w = p.overhead_tie_weights
    if (
        not isinstance(w, tuple)
        or len(w) != 4
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in w)
        or not all(math.isfinite(x) and x >= 0 for x in w)
        or sum(w) <= 0
    ):
        raise _fail(
            "overhead_tie_weights", f"must be 4 non-negative weights with sum > 0, got {w!r}"
        )
    _float(p, "customer_transformer_share", 0.0, 1.0)
    _float(p, "lv_network_share", 0.0, 1.0)
    _range(p, "feeder_loading", 0.05, 0.85)
    if p.feeder_loading[1] - p.feeder_loading[0] < 0.05:
        raise _fail("feeder_loading", "the range must be at least 0.05 wide")
    _float(p, "over_n1_share", 0.0, 0.5)
    _float(p, "light_feeder_share", 0.0, 0.5)
    if p.over_n1_share + p.light_feeder_share > 0.8:
        raise _fail("light_feeder_share", "over_n1_share + light_feeder_share must be ≤ 0.8")
    _range(p, "dt_utilisation", 0.05, 0.9)
    if not isinstance(p.lv_density, bool):
        raise _fail("lv_density", f"must be True or False, got {p.lv_density!r}")


def anyang_params() -> GeneratorParams:
    """The embedded default district: four substations around Anyang (安阳), Henan."""
    return GeneratorParams(
        name="anyang",
        seed=20260101,
        centre_lon_deg=114.35,
        centre_lat_deg=36.10,
        n_cities=1,
        substations_per_city=4,
        city_names=("安阳",),
    )


PRESETS: dict[str, GeneratorParams] = {
    # one district: the central city with 4 substations (2 cable, 2 overhead)
    "district": replace(anyang_params(), name="district"),
    # ≈ 10× the district: the central city and three county seats, 10 substations each
    "city": GeneratorParams(
        name="city",
        seed=20260102,
        centre_lon_deg=114.35,
        centre_lat_deg=36.10,
        n_cities=4,
        substations_per_city=10,
        towns_per_city=6,
        city_spacing_km=45.0,
        city_names=("安阳", "林州", "汤阴", "内黄"),
    ),
    # a province: 30 cities × 10 substations (≥ 300 substations, ≥ 100 000 buses)
    "province": GeneratorParams(
        name="province",
        seed=20260103,
        centre_lon_deg=113.65,
        centre_lat_deg=34.76,
        n_cities=30,
        substations_per_city=10,
        towns_per_city=6,
        city_spacing_km=60.0,
    ),
}


def generate_network(params: GeneratorParams) -> pp.pandapowerNet:
    """Generate the network described by ``params`` (deterministic for given params)."""
    if not isinstance(params, GeneratorParams):
        raise GeneratorParameterError(
            f"generate_network expects GeneratorParams, got {type(params).__name__}"
        )
    with _without_cycle_collection():
        return _generate(params)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """The build makes millions of small objects and no reference cycles; the cyclic
    garbage collector would scan them over and over (a third of the time for a province)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _generate(params: GeneratorParams) -> pp.pandapowerNet:
    rng = np.random.default_rng(params.seed)
    builder = GridBuilder(params, rng)
    radius_m = lv_supply_radius_m() if params.lv_density else None
    builder.run({k: v / 1000.0 for k, v in radius_m.items()} if radius_m else None)
    net = build_net(builder.tables, params.name, builder.frame)
    net["gridcap_areas"] = builder.areas_frame()
    net["gridcap_corridors"] = builder.corridors_frame()
    net["gridcap_profiles"] = typical_day_profiles()
    net["gridcap_meta"] = {
        "id": params.name,
        "version": GENERATOR_VERSION,
        "generator": "gridcap",
        "generator_version": GENERATOR_VERSION,
        "catalogue_version": load_catalogue().version,
        "seed": int(params.seed),
        "params": params.to_json_dict(),
    }
    if radius_m:
        net["gridcap_meta"]["lv_supply_radius_m"] = radius_m
    return net


def lv_supply_radius_m() -> dict[str, float]:
    """The 0.38 kV supply radius per area class (m) from the rules in force."""
    from grid_models._generator_geo import AREA_CLASSES
    from grid_models._rules import load_rules

    table = load_rules().get("scheme.candidates.supply_radius_m.lv")
    return {k: float(table[k]) for k in AREA_CLASSES}


def preset(name: str) -> GeneratorParams:
    """A preset by name (``district``, ``city``, ``province``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise GeneratorParameterError(
            f"unknown generator preset {name!r}; known: {', '.join(PRESETS)}"
        ) from None
