"""Mailing's demo data (found by ``seed_demo`` through ``demo/hooks.py``; empty until the module
lands).

Will seed, through mailing's own services: email enabled for the eligible demo shops (SPEC M-1)
with the default sender domain and brand set-up (M-2), the audience's consent states (double
opt-in, unsubscribes, suppressions, M-3), a few segments (M-4) and past campaigns with their
delivery figures. Define ``seed(*, shops, rng, now)`` here (and optionally
``tick(*, rng, now)`` for ``simulate``: opens, clicks, unsubscribes).
"""
