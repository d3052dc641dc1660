from django.shortcuts import render

from shops.decorators import shop_required

from .selectors import overview


@shop_required
def index(request):
    return render(request, "activities/index.html", {"ov": overview(shop=request.shop)})
