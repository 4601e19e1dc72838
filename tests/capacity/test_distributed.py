"""The distributed sweep gives the single-process answer, element for element."""

from __future__ import annotations

import pytest

from capacity import Reservation, distributed_rule_capacity, partitions, rule_capacity
from grid_models import load_model


def test_partitions_cover_every_substation_once():
    model = load_model("builtin:anyang")
    groups = partitions(model, 3)
    flat = [s for g in groups for s in g]
    assert sorted(flat) == sorted(model.substations) and len(flat) == len(set(flat))


@pytest.mark.slow
def test_local_cluster_matches_single_process_element_for_element():
    model = load_model("builtin:anyang")
    point = next(c for c in model.connection_points.values() if c.kind == "ring_main_unit")
    reservations = [Reservation(point.id, 300.0)]
    single = rule_capacity(model, reservations).elements
    spread = distributed_rule_capacity("builtin:anyang", reservations, n_workers=2, model=model)
    assert set(spread) == set(single)
    for eid, element in single.items():
        assert spread[eid].to_dict() == element.to_dict(), eid  # NaN-safe
