from django.db import connection
from django.http import HttpResponse, JsonResponse

from shops.decorators import shop_required


@shop_required
def home(request):
    return HttpResponse("dashboard")


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
