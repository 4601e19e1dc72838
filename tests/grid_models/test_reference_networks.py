"""SimBench and mv_oberrhein: the derived feeders and ties match the networks' real structure.

How we know: the structure is recomputed independently with pandapower's own topology
module (``pandapower.topology.create_nxgraph`` honouring switches): remove the substation
buses, and every connected component reached by a line from a substation is one feeder;
every normally-open switch whose two sides lie in different components (or in a component
and a substation bus) is a tie. For
SimBench we also use the grid's own feeder labels (``line.subnet``).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import networkx as nx
import pandapower.networks as pn
import pandapower.topology as top
import pytest
import simbench as sb

from grid_models import GridModel, model_from_net


@cache
def urban() -> GridModel:
    return model_from_net(sb.get_simbench_net("1-MV-urban--0-sw"))


@cache
def oberrhein() -> GridModel:
    return model_from_net(pn.mv_oberrhein())


def independent_structure(net, station_buses: set[int]):
    g = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    g.remove_nodes_from(station_buses)
    comp_of = {b: k for k, comp in enumerate(nx.connected_components(g)) for b in comp}
    heads = net.line[net.line.from_bus.isin(station_buses) ^ net.line.to_bus.isin(station_buses)]
    fed = set()
    for _, row in heads.iterrows():
        far = row.to_bus if row.from_bus in station_buses else row.from_bus
        fed.add(comp_of[far])
    feeders = {k: {b for b, c in comp_of.items() if c == k} for k in fed}
    ties = set()
    sw = net.switch[~net.switch.closed]
    for idx, row in sw.iterrows():
        if row.et == "l":
            line = net.line.loc[row.element]
            other = line.to_bus if line.from_bus == row.bus else line.from_bus
        elif row.et == "b":
            other = row.element
        else:
            continue
        # A side inside a substation is the substation's bus: closing there transfers too.
        a = "station" if row.bus in station_buses else comp_of.get(row.bus)
        b = "station" if other in station_buses else comp_of.get(other)
        if a != b and {a, b} <= fed | {"station"}:
            ties.add(int(idx))
    return feeders, ties


def station_buses_simbench(net) -> set[int]:
    return set(net.bus.index[net.bus.substation == "HV1_MV3.101_Substation"])


def test_simbench_urban_feeders_match_pandapower_topology():
    m = urban()
    net = m.net
    feeders, ties = independent_structure(net, station_buses_simbench(net))
    derived = {frozenset(f.buses) for f in m.feeders.values()}
    assert derived == {frozenset(int(b) for b in c) for c in feeders.values()}
    assert {t.switch for t in m.tie_switches.values()} == ties
    assert len(m.feeders) == 11 and len(m.tie_switches) == 11


def test_simbench_urban_feeder_labels_map_to_one_feeder_each():
    # SimBench labels each line with its feeder (MV3.101_Feeder1 … Feeder14). Feeders 11–14
    # leave the switching station ("Base Station") that Feeder2 and Feeder4 supply, so in
    # the utility's view they belong to those feeders' supply paths.
    m = urban()
    net = m.net
    label_to_feeders: dict[str, set[str]] = defaultdict(set)
    for f in m.feeders.values():
        for line in f.lines:
            label = net.line.at[line, "subnet"]
            if "_Feeder" in label:
                label_to_feeders[label].add(f.id)
    assert len(label_to_feeders) == 14
    assert all(len(v) == 1 for v in label_to_feeders.values())
    via_station = {
        lab: next(iter(v))
        for lab, v in label_to_feeders.items()
        if lab.endswith(("Feeder11", "Feeder12", "Feeder13", "Feeder14"))
    }
    assert via_station["MV3.101_Feeder11"] == next(iter(label_to_feeders["MV3.101_Feeder2"]))
    assert via_station["MV3.101_Feeder13"] == next(iter(label_to_feeders["MV3.101_Feeder4"]))
    kinds = {c.kind for c in m.connection_points.values()}
    assert {"substation_bay", "switching_station", "ring_main_unit"} <= kinds


def test_simbench_urban_structure_counts_and_modes():
    s = urban().summary()
    assert (s["substations"], s["main_transformers"], s["bus_sections"]) == (1, 2, 2)
    assert s["bus_couplers"] == 2  # the two open 10 kV couplers between busbar 1 and 2
    assert s["wiring_modes"]["radial"] == 0  # every SimBench urban feeder can transfer
    assert s["segments"] == 147  # SimBench switches every line at both ends


def test_oberrhein_feeders_and_ties_match_pandapower_topology():
    m = oberrhein()
    net = m.net
    stations = set(net.trafo.hv_bus) | set(net.trafo.lv_bus)
    feeders, ties = independent_structure(net, stations)
    derived = {frozenset(f.buses) for f in m.feeders.values()}
    assert derived == {frozenset(int(b) for b in c) for c in feeders.values()}
    assert {t.switch for t in m.tie_switches.values()} == ties
    s = m.summary()
    assert (s["substations"], s["feeders"], s["tie_switches"]) == (2, 4, 5)
    assert s["tie_switches_between_substations"] == 3
    # the sixth open switch has the same feeder on both sides
    assert [p.ids for p in m.problems if p.code == "open_loop_within_feeder"] == [(14,)]


@pytest.mark.parametrize("code", ["1-MV-rural--0-sw", "1-MV-comm--0-sw", "1-MV-semiurb--0-sw"])
def test_other_simbench_mv_grids_derive_sensibly(code):
    net = sb.get_simbench_net(code)
    m = model_from_net(net)
    subs = set(net.bus.index[net.bus.substation.astype(str).str.startswith("HV1_")])
    feeders, ties = independent_structure(net, subs)
    assert len(m.feeders) == len(feeders) > 0
    assert {t.switch for t in m.tie_switches.values()} == ties
    assert not [p for p in m.problems if p.severity == "error"]
