"""Mailing models: setup. Each module lists its public names in __all__."""

__all__: list[str] = []
