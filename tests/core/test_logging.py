"""Production log lines are JSON objects (DESIGN §7)."""

import json
import logging

from core.logging import JsonFormatter


def _record(msg, *args, exc_info=None, **extra):
    record = logging.LogRecord("orders.eventlog", logging.WARNING, "x.py", 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_log_line_is_one_json_object_with_level_logger_message_and_extras():
    line = JsonFormatter().format(_record("event %s failed", 42, consumer="coins"))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "orders.eventlog"
    assert entry["message"] == "event 42 failed"
    assert entry["consumer"] == "coins"
    assert entry["time"].endswith("+00:00")


def test_an_exception_travels_inside_the_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        line = JsonFormatter().format(_record("failed", exc_info=sys.exc_info()))

    entry = json.loads(line)
    assert "ValueError: boom" in entry["exception"]
    assert line.count("\n") == 0


def test_production_settings_log_json_and_make_run_plain(settings):
    # settings_test runs with debug off, as production
    assert settings.LOG_FORMAT == "json"
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "json"
