from django.shortcuts import render
from django.views.decorators.http import require_safe

from shops.decorators import shop_required

from .selectors import overview


@require_safe
@shop_required
def index(request):
    return render(request, "activities/index.html", {"ov": overview(shop=request.shop)})
