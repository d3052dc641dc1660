from . import admin_audience  # noqa: F401 - the audience's admin (CSV import allowances, …)
