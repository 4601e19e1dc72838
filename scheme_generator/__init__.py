"""scheme_generator (to come)."""

__all__: list[str] = []
