from django.shortcuts import render
from django.views.decorators.http import require_safe

from coins.selectors import opening_checks
from core.checks import all_passed
from shops.decorators import shop_required


@require_safe
@shop_required
def index(request):
    checks = opening_checks(shop=request.shop)
    return render(request, "coins/index.html", {"checks": checks, "eligible": all_passed(checks)})
