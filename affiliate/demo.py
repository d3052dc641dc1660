"""Affiliate's demo data (found by ``seed_demo`` through ``demo/hooks.py``; empty until the module
lands).

Will seed, through affiliate's own services: promoters (approved, in trial, waiting in the review
queue, SPEC A-1), the seller programmes of the L3+ demo shops with their commission rates (A-2),
PIDs and tracking links (one frozen, A-3), clicks and the demo orders attributed to them with
their commissions. Define ``seed(*, shops, rng, now)`` here (and optionally
``tick(*, rng, now)`` for ``simulate``: new clicks).
"""
