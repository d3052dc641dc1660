"""The private storage of uploads (core.uploads): ``settings.STORAGES["private"]``."""

from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class PrivateFileSystemStorage(FileSystemStorage):
    """Local private storage: files have a path, never a URL."""

    def url(self, name):
        raise ValueError("private files have no URL; serve them through core.uploads.serve")


class _PrivateStorage(LazyObject):
    """``storages["private"]``, looked up when first used (as Django's ``default_storage``),
    so a FileField does not freeze the storage configured at import time."""

    def _setup(self):
        self._wrapped = storages["private"]


private = _PrivateStorage()


@receiver(setting_changed)
def _reset(*, setting, **kwargs):
    if setting == "STORAGES":  # tests (and only tests) change it at run time
        private._wrapped = empty  # type: ignore[assignment]  # LazyObject's own sentinel


def private_storage():
    return private
