"""A planner's first look at a network: feeders by wiring mode, the least secure ones, ties.

python examples/network_overview.py [SPEC]
"""

from __future__ import annotations

import sys

from grid_models import load_model


def main(spec: str = "builtin:anyang") -> None:
    model = load_model(spec)
    print(f"{model.id} (version {model.version})")
    for mode, count in model.feeders_by_wiring_mode().items():
        print(f"  {mode:<12} {count:>4} feeders")
    radial = [f for f in model.feeders.values() if not f.n1_secure]
    print(f"radial feeders (no N-1 transfer): {', '.join(f.name for f in radial) or 'none'}")
    cross = [t for t in model.tie_switches.values() if t.between_substations]
    print(f"ties between substations: {len(cross)} of {len(model.tie_switches)}")
    point = max(model.connection_points.values(), key=lambda c: len(model.supply_path(c.id)))
    print(f"deepest connection point {point.name}: " + " → ".join(model.supply_path(point.id)))


if __name__ == "__main__":
    main(*sys.argv[1:2])
