"""Islands of a network (供电区域): what one source energises in the normal state.

A substation's own network with its ties open is electrically on its own, so an AC search
at one of its buses needs only that island: a smaller power flow and path model, the same
answer. Islands are extracted once per network and kept with the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from capacity._criteria import HostingCriteria
from capacity._fast import fast_hosting
from capacity._hosting import BusCapacity
from grid_models import GridModel, Rules


def island_net(model: GridModel, bus: int) -> Any:
    """The pandapower net of the island ``bus`` belongs to (cached with the model; indices
    of buses, lines and transformers kept)."""
    import networkx as nx
    import pandapower.toolbox as tb

    islands: dict[int, Any] = model.__dict__.setdefault("_islands", {})
    owner: dict[int, int] = model.__dict__.setdefault("_island_of", {})
    key = owner.get(bus)
    if key is not None:
        return islands[key]
    buses = nx.node_connected_component(model.graph, bus)
    key = min(buses)
    islands[key] = tb.select_subnet(model.net, buses, include_results=False)
    owner.update(dict.fromkeys(buses, key))
    return islands[key]


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
