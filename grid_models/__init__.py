"""The 10 kV network model (配电网模型)."""

__all__: list[str] = []
