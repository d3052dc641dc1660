"""The dashboard benchmark's baseline: the cheapest authenticated page the stack can serve.

It goes through the same middleware as the real pages (session, auth, current shop, CSP…)
and the same login requirement, then returns a few bytes without touching any order table,
so ``dashboard rps / baseline rps`` isolates what the pages themselves cost.
"""

import json
import os
import secrets

from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@login_required
def baseline(request):
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
@require_POST
def register_baseline(request):
    """The register benchmark's baseline: the same password hash and one INSERT of a buyer."""
    from buyers.models import Buyer

    body = json.loads(request.body)
    Buyer.objects.create(
        external_id=f"sc-{secrets.token_hex(12)}",
        email=body["contact"].casefold(),
        password=make_password(body["password"]),
        country=body["country"],
        source="signup",
        registered_at=timezone.now(),
    )
    return JsonResponse({"status": "created"}, status=202)


def click_baseline(request, code: str):
    """The click benchmark's baseline: a bare view answering the same 302 as ``/t/<code>`` —
    the link's destination (``BENCH_CLICK_DESTINATION``, set by the harness from the fixture),
    the same cookie and headers — on the same server, with nothing recorded and nothing read."""
    response = HttpResponseRedirect(_CLICK_DESTINATION)
    response.set_cookie(
        "sc_aff_click", secrets.token_hex(16), max_age=604800, httponly=True, samesite="Lax"
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


_CLICK_DESTINATION = os.environ.get("BENCH_CLICK_DESTINATION", "https://www.aliexpress.com/")
