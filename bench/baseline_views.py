"""The dashboard benchmark's baseline: the cheapest authenticated page the stack can serve.

It goes through the same middleware as the real pages (session, auth, current shop, CSP…)
and the same login requirement, then returns a few bytes without touching any order table,
so ``dashboard rps / baseline rps`` isolates what the pages themselves cost.
"""

import json
import secrets

from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.http import HttpResponse, JsonResponse
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
