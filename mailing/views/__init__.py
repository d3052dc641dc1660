"""Mailing's seller pages. The set-up pages (SPEC M-1, M-2) are in ``views.setup``."""

from .setup import (
    brand,
    brand_logo,
    brand_logo_private,
    domain,
    domain_check,
    enable,
    index,
    template_copy,
    template_edit,
    template_preview,
    template_preview_frame,
    templates,
)

__all__ = [
    "brand",
    "brand_logo",
    "brand_logo_private",
    "domain",
    "domain_check",
    "enable",
    "index",
    "template_copy",
    "template_edit",
    "template_preview",
    "template_preview_frame",
    "templates",
]
