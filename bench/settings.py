"""Settings of the servers the benchmark starts: production settings plus a bench-only URL.

ROOT_URLCONF is the one real change, so the production URLs stay untouched and the baseline
view (``/bench/baseline``) exists only on bench servers.
"""

import os

from sellercenter.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

if os.environ.get("BENCH_LENIENT_STATIC") == "1":
    # Fallback the harness uses only when production ``collectstatic`` fails (it says so loudly):
    # the same manifest storage, minus the rewriting of source-map comments, so a vendored
    # file that names a missing ``.map`` does not stop the benchmark.
    STORAGES = {
        **STORAGES,  # noqa: F405
        "staticfiles": {"BACKEND": "bench.staticstorage.LenientManifestStorage"},
    }
