"""A what-if study from Python: the scenario in what_if_core_growth.yaml on builtin:anyang.

python examples/what_if_core_growth.py
"""

from __future__ import annotations

from pathlib import Path

from capacity import load_scenario, what_if
from grid_models import load_model


def main() -> None:
    model = load_model("builtin:anyang")
    scenario = load_scenario(Path(__file__).with_suffix(".yaml"), model)
    result = what_if(model, scenario)
    print(result.summary())
    for row in result.rows:
        if row["kind"] == "feeder" and row["c1_kva_after"] != row["c1_kva_before"]:
            print(
                f"{row['name']}: C1 {row['c1_kva_before']:.0f} → {row['c1_kva_after']:.0f} kVA "
                f"({row['light_before']} → {row['light_after']})"
            )


if __name__ == "__main__":
    main()
