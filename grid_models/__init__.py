"""The 10 kV network model (配电网模型): a pandapower net and what its topology says.

Load a network by spec (``builtin:anyang``, ``simbench:CODE``, ``pandapower:FUNCTION``, a
pandapower JSON file or a bundle folder) with :func:`load_model`; the returned
:class:`GridModel` knows substations, main transformers, bus sections, feeders with their
wiring modes, segments, tie switches, distribution transformers, connection points and
areas, plus every validation problem found; ``GridModel.corridors`` is the corridor graph
(roads, cable ducts, crossings of rivers and railways) that new lines are routed along.
"""

from grid_models._bundle import read_bundle, write_bundle
from grid_models._catalogue import (
    Catalogue,
    CatalogueError,
    LineType,
    TransformerType,
    load_catalogue,
    load_plan,
    register_std_types,
)
from grid_models._corridors import (
    BARRIER_KINDS,
    CORRIDOR_KINDS,
    TRAVERSABLE_KINDS,
    Barrier,
    CorridorKind,
    CorridorNetwork,
    corridor_summary,
)
from grid_models._errors import (
    BundleWriteError,
    GeneratorParameterError,
    GridModelError,
    NetworkLoadError,
    Problem,
    UnknownNetworkSpecError,
)
from grid_models._export import to_geojson
from grid_models._generator import PRESETS, GeneratorParams, anyang_params, generate_network
from grid_models._geo import AREA_CLASSES, Area, AreaClass, bus_positions, geodesic_m
from grid_models._loaders import (
    DEFAULT_NETWORK,
    builtin_names,
    load_model,
    load_network,
    model_from_net,
)
from grid_models._model import (
    WIRING_MODES,
    BusSection,
    ConnectionPoint,
    DistributionTransformer,
    Feeder,
    GridModel,
    MainTransformer,
    Segment,
    Substation,
    TieSwitch,
    WiringMode,
)
from grid_models._rules import Rules, RulesError, load_rules
from grid_models._topology import derive_model, network_version
from grid_models._validation import validate_net

__all__ = [
    "load_plan",
    "corridor_summary",
    "AREA_CLASSES",
    "BARRIER_KINDS",
    "CORRIDOR_KINDS",
    "DEFAULT_NETWORK",
    "PRESETS",
    "WIRING_MODES",
    "Area",
    "Barrier",
    "BundleWriteError",
    "AreaClass",
    "BusSection",
    "Catalogue",
    "CatalogueError",
    "ConnectionPoint",
    "CorridorKind",
    "CorridorNetwork",
    "DistributionTransformer",
    "Feeder",
    "GeneratorParameterError",
    "GeneratorParams",
    "GridModel",
    "GridModelError",
    "LineType",
    "MainTransformer",
    "NetworkLoadError",
    "Problem",
    "Rules",
    "RulesError",
    "Segment",
    "Substation",
    "TRAVERSABLE_KINDS",
    "TieSwitch",
    "TransformerType",
    "UnknownNetworkSpecError",
    "WiringMode",
    "anyang_params",
    "builtin_names",
    "bus_positions",
    "derive_model",
    "generate_network",
    "geodesic_m",
    "load_catalogue",
    "load_model",
    "load_network",
    "load_rules",
    "model_from_net",
    "network_version",
    "read_bundle",
    "register_std_types",
    "to_geojson",
    "validate_net",
    "write_bundle",
]
