from django.db.models import QuerySet
from django.http import Http404

from .models import Membership, Product, Shop


def memberships_for_user(*, user) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    # The first of these is the shop a member works in until they pick one: by name, then id,
    # so two shops of the same name still give one stable default.
    return (
        Membership.objects.filter(user=user)
        .select_related("shop")
        .order_by("shop__name", "shop_id")
    )


def can_see_buyer_contacts(membership: Membership | None) -> bool:
    """Whether the holder of ``membership`` sees (and may search by) buyers' contacts."""
    return membership is not None and membership.can_see_buyer_contacts


def membership_for(*, user, shop_id: int | None) -> Membership | None:
    """The user's membership of ``shop_id``; with no id, of their first shop."""
    qs = memberships_for_user(user=user)
    if shop_id is not None:
        return qs.filter(shop_id=shop_id).first()
    return qs.first()


def get_product_for_shop(*, shop: Shop, product_id: int) -> Product:
    try:
        return Product.objects.prefetch_related("skus").get(pk=product_id, shop=shop)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise Http404("No such product in this shop.") from None


def products_for_shop(
    *, shop: Shop, q: str = "", status: str = "", category: str = ""
) -> QuerySet[Product]:
    qs = Product.objects.filter(shop=shop)
    if q:
        qs = qs.filter(title__icontains=q)
    if status:
        qs = qs.filter(review_status=status)
    if category:
        qs = qs.filter(category=category)
    return qs.prefetch_related("skus").order_by("title", "id")
