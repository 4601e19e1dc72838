"""The service, the command line and the customer page."""

__all__: list[str] = []
