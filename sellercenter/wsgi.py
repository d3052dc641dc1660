import os

from django.core.wsgi import get_wsgi_application

from .startup import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sellercenter.settings")

# Before building the app, so a missing secret is named (settings load lazily here).
require_secret_key()
application = get_wsgi_application()
