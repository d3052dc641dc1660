"""The demo marketplace (floor 4): ``seed_demo``, ``simulate``, bulk seeding and the demo world.

Nothing here is imported by the product's apps; it writes through their services (and, for the
bulk of the history, through ``demo.bulk``) and calls each installed app's ``demo`` hook
(``demo/hooks.py``).
"""
