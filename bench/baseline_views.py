"""The dashboard benchmark's baseline: the cheapest authenticated page the stack can serve.

It goes through the same middleware as the real pages (session, auth, current shop, CSP…)
and the same login requirement, then returns a few bytes without touching any order table,
so ``dashboard rps / baseline rps`` isolates what the pages themselves cost.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def baseline(request):
    return HttpResponse(b"ok", content_type="text/plain")
