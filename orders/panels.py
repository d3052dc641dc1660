"""Sections that modules above ``orders`` add to the order detail page (e.g. the coins an
order spent and earned, SPEC C-8/C-9), registered from their apps.py, so ``orders`` shows them
without importing a marketing module (DESIGN §1: a floor never imports the floors above).

A panel's ``context(request, order)`` returns the context of its template, or None to show
nothing; it runs a fixed number of queries whatever the order holds (the page has a
query-count test)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PanelContext = Callable[[Any, Any], dict | None]


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    context: PanelContext
    template: str


_panels: dict[str, Panel] = {}


def register(name: str, *, order: int, context: PanelContext, template: str) -> None:
    _panels[name] = Panel(name=name, order=order, context=context, template=template)


def unregister(name: str) -> None:
    _panels.pop(name, None)


def render_context(request, order) -> list[dict]:
    """Each registered panel with something to show: ``{"template", "panel"}``, in order."""
    out = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        ctx = panel.context(request, order)
        if ctx is not None:
            out.append({"template": panel.template, "panel": ctx})
    return out
