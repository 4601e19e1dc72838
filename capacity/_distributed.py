"""Capacity sweeps on Dask distributed, partitioned by substation.

Every supply path (point → segments → feeder → bus section → main transformer) stays
inside one substation, so the rule-based capacity of one group of substations does not
depend on another's: each task computes a group, and the results are merged. Ties between
substations only set wiring modes, which every worker derives from the whole topology —
the "second pass" for cross-substation ties is the derivation each worker runs before it
computes its partition. Workers load the network from its spec once and keep it.

A ``LocalCluster`` is started by default; ``scheduler="tcp://host:8786"`` uses any
running Dask scheduler instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from capacity._rules_based import ElementCapacity, Reservation, rule_capacity
from grid_models import GridModel, load_model


@lru_cache(maxsize=2)
def _model(spec: str) -> GridModel:
    return load_model(spec)


def _partition(
    spec: str, substations: Sequence[str], reservations: Sequence[Reservation]
) -> list[ElementCapacity]:
    model = _model(spec)
    return list(rule_capacity(model, reservations, substations=substations).elements.values())


def partitions(model: GridModel, n: int) -> list[list[str]]:
    """Substations in ``n`` groups of about equal size (by buses), heaviest first."""
    subs = sorted(model.substations.values(), key=lambda s: -len(s.buses))
    groups: list[list[str]] = [[] for _ in range(max(1, n))]
    sizes = [0] * len(groups)
    for sub in subs:
        k = sizes.index(min(sizes))
        groups[k].append(sub.id)
        sizes[k] += len(sub.buses)
    return [g for g in groups if g]


def distributed_rule_capacity(
    spec: str,
    reservations: Sequence[Reservation] = (),
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    n_partitions: int | None = None,
    model: GridModel | None = None,
) -> dict[str, ElementCapacity]:
    """Rule-based capacity of every element and point, computed on a Dask cluster."""
    from dask.distributed import Client, LocalCluster

    model = model or _model(spec)
    groups = partitions(model, n_partitions or 4 * n_workers)
    cluster: Any = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = [
            client.submit(_partition, spec, group, list(reservations), pure=False)
            for group in groups
        ]
        merged: dict[str, ElementCapacity] = {}
        for part in client.gather(futures):
            for element in part:
                merged[element.id] = element
        return merged
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
