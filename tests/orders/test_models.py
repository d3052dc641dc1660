"""Order model helpers."""

import pytest
from django.utils import translation

from orders.models import OrderStatus, PaymentMethod

pytestmark = pytest.mark.django_db


def test_order_labels_come_from_the_enums_in_the_active_language(order_a):
    # then: the same labels get_FOO_display gives, translated
    assert order_a.status_label == order_a.get_status_display() == OrderStatus.PAID.label
    assert order_a.payment_method_label == order_a.get_payment_method_display()
    with translation.override("zh-hans"):
        assert str(order_a.status_label) == "已支付"
        assert str(PaymentMethod.CARD.label) != "Card"
