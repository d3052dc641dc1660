from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.checks import all_passed
from shops.decorators import shop_required
from shops.models import StoreLevel

from . import rules
from .selectors import programme_checks


@require_safe
@shop_required
def index(request):
    checks = programme_checks(shop=request.shop)
    return render(
        request,
        "affiliate/index.html",
        {
            "checks": checks,
            "eligible": all_passed(checks),
            "levels": StoreLevel.values,
            "min_level": rules.min_store_level(),
        },
    )
