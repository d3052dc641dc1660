"""The home dashboard's tiles: one per marketing module (DESIGN §2), registered from its apps.py.

Generic on purpose (no domain knowledge): a tile is a name, a place in the grid, a callable
``(request, shop) -> context or None`` (None: nothing to show for this shop) and a template.
A tile's callable reads through its module's selectors and runs at most two queries; the
home view renders whatever is registered, so a module lands on the dashboard by itself.

A tile's context may carry ``attention``: a list of :class:`Attention` items, which the home
view ranks together with its own in the *needs attention* panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

TileContext = dict[str, Any]
TileCallable = Callable[[HttpRequest, Any], TileContext | None]

SEVERITY_CRITICAL = 3  # already breached / already late: act now
SEVERITY_WARNING = 2  # about to breach
SEVERITY_NOTICE = 1  # worth a look


@dataclass(frozen=True)
class Attention:
    """One thing that threatens the shop, with the page where the seller can act on it."""

    severity: int  # SEVERITY_*; the panel lists the highest first
    text: str  # the threat in words, with the headroom where there is one
    url: str  # where to act
    action: str  # the link's words
    weight: float = 0.0  # within one severity: the larger, the more urgent


@dataclass(frozen=True)
class Tile:
    name: str
    order: int
    context: TileCallable
    template: str


@dataclass
class TileRegistry:
    tiles: dict[str, Tile] = field(default_factory=dict)

    def register(self, name: str, *, order: int, context: TileCallable, template: str) -> None:
        """Register (or replace: a module's real tile replaces its placeholder) a tile."""
        self.tiles[name] = Tile(name=name, order=order, context=context, template=template)

    def unregister(self, name: str) -> None:
        self.tiles.pop(name, None)

    def all(self) -> list[Tile]:
        return sorted(self.tiles.values(), key=lambda t: (t.order, t.name))

    def render_contexts(self, request: HttpRequest, shop: Any) -> list[tuple[Tile, TileContext]]:
        """Each registered tile with its context, in grid order; tiles with nothing to show
        (their callable returned None) are left out."""
        out = []
        for tile in self.all():
            ctx = tile.context(request, shop)
            if ctx is not None:
                out.append((tile, ctx))
        return out


registry = TileRegistry()
register = registry.register
