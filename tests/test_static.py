"""Production static files: the manifest storage (WhiteNoise) must collect every vendored asset.

The Docker image runs this at build time; a vendored file that references a missing one
(a source map, a font) would break the build.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_collectstatic_with_production_manifest_storage(tmp_path):
    # given: production settings (debug off → CompressedManifestStaticFilesStorage)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sellercenter.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "collectstatic-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "SC_VAR_DIR": str(tmp_path),
    }
    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # then: it succeeds and the hashed manifest names the vendored assets
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = (tmp_path / "staticfiles" / "staticfiles.json").read_text()
    for name in (
        "vendor/htmx/htmx.min.js",
        "vendor/chartjs/chart.umd.min.js",
        "vendor/bootstrap/bootstrap.min.css",
    ):
        assert name in manifest
