"""Activities' demo data (found by ``seed_demo`` through ``demo/hooks.py``; empty until the module
lands).

Will seed, through activities' own services: running and upcoming activities (flash deal,
coupons, a coin-themed event, SPEC E-1), demo shops' SKU enrolments that pass and fail the
pre-check with their reasons (E-2), and the late shipper and high canceller shops' metrics past
their thresholds so a warning and a forced exit are visible (E-3 to E-5). Define
``seed(*, shops, rng, now)`` here (and optionally ``tick(*, rng, now)`` for ``simulate``).
"""
