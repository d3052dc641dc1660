"""System checks of the Celery configuration (DESIGN §4)."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def task_time_limits_fit_under_visibility_timeout(app_configs=None, **kwargs):
    """A task still running when the broker's visibility timeout ends is delivered a second
    time, to another worker: every hard time limit must end before it."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    timeout = options.get("visibility_timeout")
    if timeout is None:  # the filesystem broker has none
        return []
    from django.utils.module_loading import autodiscover_modules

    from sellercenter.celery import app

    autodiscover_modules("tasks")  # registers every app's tasks (what the worker loads)
    errors = []
    limits = {"CELERY_TASK_TIME_LIMIT": settings.CELERY_TASK_TIME_LIMIT}
    limits |= {
        f"task {name}": task.time_limit
        for name, task in app.tasks.items()
        # A task without its own limit inherits CELERY_TASK_TIME_LIMIT (checked above).
        if getattr(task, "time_limit", None) not in (None, settings.CELERY_TASK_TIME_LIMIT)
    }
    for where, limit in limits.items():
        if limit is None or limit >= timeout:
            errors.append(
                Error(
                    f"{where}: hard time limit {limit} s does not end before the broker's "
                    f"visibility timeout ({timeout} s); a running task would be delivered twice.",
                    hint="Lower the time limit or raise CELERY_BROKER_VISIBILITY_TIMEOUT.",
                    id="sellercenter.E001",
                )
            )
    soft, hard = settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT
    if soft is not None and hard is not None and soft >= hard:
        errors.append(
            Error(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({soft} s) must be below "
                f"CELERY_TASK_TIME_LIMIT ({settings.CELERY_TASK_TIME_LIMIT} s).",
                id="sellercenter.E002",
            )
        )
    return errors
