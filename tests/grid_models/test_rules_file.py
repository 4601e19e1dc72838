"""The rules file is read strictly: one value per key, and the packaged file loads."""

from __future__ import annotations

import pytest

from grid_models import RulesError, load_rules
from grid_models._rules import _parse


def test_packaged_rules_load_with_every_section():
    rules = load_rules()
    for section in ("scheme", "terms", "service", "input", "capacity"):
        assert isinstance(rules.get(section), dict), section


def test_a_key_given_twice_is_refused():
    with pytest.raises(RulesError, match="given twice"):
        _parse("rules_version: x\nscheme:\n  a: 1\n  a: 2\n", "edited.yaml")
