"""Islands of a network (供电区域): what one source energises in the normal state.

A substation's own network with its ties open is electrically on its own, so an AC search
at one of its buses needs only that island: a smaller power flow and path model, the same
answer. Islands are extracted once per network and kept with the model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from capacity._criteria import HostingCriteria
from capacity._fast import fast_hosting
from capacity._hosting import BusCapacity, inflight_slots
from grid_models import GridModel, Rules


def island_net(model: GridModel, bus: int) -> Any:
    """The pandapower net of the island ``bus`` belongs to (cached with the model; indices
    of buses, lines and transformers kept)."""
    import networkx as nx
    import pandapower as pp
    import pandapower.toolbox as tb

    islands: dict[int, Any] = model.__dict__.setdefault("_islands", {})
    key = island_of(model, bus)
    if key in islands:
        return islands[key]
    buses = nx.node_connected_component(model.graph, bus)
    island = tb.select_subnet(model.net, buses, include_results=False)
    # a slot for reservations at every connection point's bus (zero until a search)
    inflight_slots(island, (cp.bus for cp in model.connection_points.values()))
    # solved once: searches on it start from this solution (if it fails, they start flat
    # and report the base case themselves)
    with contextlib.suppress(pp.LoadflowNotConverged):
        pp.runpp(island)
    islands[key] = island
    return island


def island_of(model: GridModel, bus: int) -> int:
    """Which island ``bus`` belongs to (its smallest bus index; -1 for a bus the topology
    does not hold); every island found at once and kept with the model."""
    import networkx as nx

    owner: dict[int, int] | None = model.__dict__.get("_island_of")
    if owner is None:
        owner = {}
        for buses in nx.connected_components(model.graph):
            owner.update(dict.fromkeys(buses, min(buses)))
        model.__dict__["_island_of"] = owner
    return owner.get(bus, -1)


def island_hosting(
    model: GridModel,
    criteria: HostingCriteria,
    buses: Iterable[int],
    *,
    rules: Rules | None = None,
    extra_load_mw: Mapping[int, float] | None = None,
) -> list[BusCapacity]:
    """AC capacity of ``buses``, each searched on its own island (extra loads placed on
    the islands they belong to)."""
    by_island: dict[int, list[int]] = {}
    nets: dict[int, Any] = {}
    for b in buses:
        net = island_net(model, b)
        key = id(net)
        nets[key] = net
        by_island.setdefault(key, []).append(b)
    out: list[BusCapacity] = []
    for key, members in by_island.items():
        net = nets[key]
        extra = {b: p for b, p in (extra_load_mw or {}).items() if b in net.bus.index}
        out += fast_hosting(net, criteria, members, rules=rules, extra_load_mw=extra)
    return out
