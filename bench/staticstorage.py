"""See bench/settings.py: a bench-only fallback for a collectstatic that fails on source maps."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class LenientManifestStorage(CompressedManifestStaticFilesStorage):
    patterns = tuple(
        (glob, tuple(p for p in pats if "sourceMappingURL" not in str(p)))
        for glob, pats in CompressedManifestStaticFilesStorage.patterns
    )
