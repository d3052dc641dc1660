"""Coins' demo data (found by ``seed_demo`` through ``demo/hooks.py``; empty until the module
lands).

Will seed, through coins' own services: coin accounts for the eligible demo shops (one refused
with its measured reasons, SPEC C-1; one paused, C-2), coin funds topped up from the shop
balance (C-5), products with the deduction switch and ratio (C-3/C-4), buyers' coin balances
issued and partly redeemed on demo orders, some about to expire. Define
``seed(*, shops, rng, now)`` here (and optionally ``tick(*, rng, now)`` for ``simulate``).
"""
