"""Each module's demo data, found by convention (DESIGN §2: every module plugs a demo hook in).

A module does not register with ``demo`` — floor 3 never imports floor 4 (DESIGN §1). It offers
an optional ``demo`` module instead, found the way Django's ``autodiscover`` finds ``admin``::

    # coins/demo.py
    def seed(*, shops, rng, now):   # once, by ``seed_demo``, after the marketplace is seeded
        ...                          # write through coins' own services
    def tick(*, rng, now):           # optional: about once a second, by in-process ``simulate``
        ...

``seed_demo`` calls every installed app's ``demo.seed`` in ``INSTALLED_APPS`` order, each with its
own ``random.Random(f"{seed}-{app label}")``: the data of one module never shifts when another
module draws more or fewer numbers, and a ``--seed`` gives the same world every time. ``shops``
are the seeded ``Shop`` rows (orders, buyers and daily figures already written); ``now`` is the
run's ``core.clock.now()``, which every time of the module's data should be an offset from.

An app without a ``demo`` module, or whose ``demo`` module has no ``seed`` (or ``tick``), is
skipped. An error inside a hook is not swallowed: a broken demo should fail loudly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import TYPE_CHECKING

from django.apps import AppConfig, apps
from django.utils.module_loading import module_has_submodule

from core import clock

if TYPE_CHECKING:
    from shops.models import Shop

HOOK_MODULE = "demo"


@dataclass(frozen=True)
class Hook:
    app: str  # the app label: names the hook's random stream
    seed: Callable[..., object] | None
    tick: Callable[..., object] | None


def discover(app_configs: Iterable[AppConfig] | None = None) -> list[Hook]:
    """The apps (default: every installed app, in ``INSTALLED_APPS`` order) with a ``demo``
    module defining ``seed`` or ``tick``."""
    hooks = []
    for config in apps.get_app_configs() if app_configs is None else app_configs:
        if config.name == __package__ or not module_has_submodule(config.module, HOOK_MODULE):
            continue
        module = import_module(f"{config.name}.{HOOK_MODULE}")
        seed, tick = getattr(module, "seed", None), getattr(module, "tick", None)
        if callable(seed) or callable(tick):
            hooks.append(
                Hook(
                    app=config.label,
                    seed=seed if callable(seed) else None,
                    tick=tick if callable(tick) else None,
                )
            )
    return hooks


def seed_all(
    *,
    shops: Sequence[Shop],
    seed: int,
    now: datetime,
    app_configs: Iterable[AppConfig] | None = None,
) -> list[str]:
    """Call every app's ``demo.seed``; returns the labels of the apps seeded, in order."""
    seeded = []
    for hook in discover(app_configs):
        if hook.seed is None:
            continue
        rng = random.Random(f"{seed}-{hook.app}")  # noqa: S311 - demo data, not secrets
        hook.seed(shops=list(shops), rng=rng, now=now)
        seeded.append(hook.app)
    return seeded


class Ticker:
    """Every app's ``demo.tick``, each with its own random stream for the whole run."""

    def __init__(self, *, seed: int | None, app_configs: Iterable[AppConfig] | None = None) -> None:
        hooks = [hook for hook in discover(app_configs) if hook.tick is not None]
        self.apps = [hook.app for hook in hooks]
        self.ticks = [
            (hook.tick, random.Random(None if seed is None else f"{seed}-{hook.app}-tick"))  # noqa: S311
            for hook in hooks
        ]

    def __bool__(self) -> bool:
        return bool(self.ticks)

    def __call__(self) -> None:
        now = clock.now()
        for tick, rng in self.ticks:
            tick(rng=rng, now=now)
