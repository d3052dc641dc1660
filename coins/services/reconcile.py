"""The nightly reconciliation (SPEC C-5, C-6; DESIGN §3): the entries of every ledger account
must sum to its cached balance, every wallet must equal its lots, and every fund must equal
its wallets. A difference is recorded and sent to the platform admins — never corrected."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.core.mail import mail_admins
from django.db.models import Sum

from core import clock

from ..models import CoinEntry, CoinFund, CoinLot, CoinReconciliation, CoinWallet, LedgerAccount

log = logging.getLogger(__name__)
A = LedgerAccount


def ledger_reconcile() -> CoinReconciliation:
    """Compare every cached balance with the ledger; record the result (read in admin)."""
    by_account: dict[tuple[int, str], int] = defaultdict(int)
    for row in CoinEntry.objects.values("shop_id", "account").annotate(s=Sum("delta")):
        by_account[(row["shop_id"], row["account"])] = row["s"]
    by_wallet = dict(
        CoinEntry.objects.filter(wallet__isnull=False)
        .values("wallet_id")
        .annotate(s=Sum("delta"))
        .values_list("wallet_id", "s")
    )
    lots = dict(
        CoinLot.objects.values("wallet_id")
        .annotate(s=Sum("remaining"))
        .values_list("wallet_id", "s")
    )
    differences = []

    def differ(what: str, shop_id: int, cached: int, ledger: int, **ids) -> None:
        if cached != ledger:
            differences.append(
                {"what": what, "shop_id": shop_id, "cached": cached, "ledger": ledger, **ids}
            )

    funds = wallets = 0
    wallet_sums: dict[int, int] = defaultdict(int)
    for w in CoinWallet.objects.values("pk", "shop_id", "balance").iterator():
        wallets += 1
        wallet_sums[w["shop_id"]] += w["balance"]
        differ("wallet", w["shop_id"], w["balance"], by_wallet.get(w["pk"], 0), wallet_id=w["pk"])
        differ("wallet lots", w["shop_id"], w["balance"], lots.get(w["pk"], 0), wallet_id=w["pk"])
    for f in CoinFund.objects.iterator():
        funds += 1
        s = f.shop_id
        differ("fund available", s, f.available, by_account[(s, A.FUND_AVAILABLE)])
        differ("fund reserved", s, f.reserved, by_account[(s, A.WALLET)])
        differ("fund reserved = wallets", s, f.reserved, wallet_sums[s])
        differ("fund spent", s, f.spent, by_account[(s, A.SPENT)])
        differ("fund topped up", s, f.topped_up, -by_account[(s, A.SHOP_BALANCE)])
    result = CoinReconciliation.objects.create(
        run_at=clock.now(),
        ok=not differences,
        funds_checked=funds,
        wallets_checked=wallets,
        differences=differences,
    )
    if differences:
        log.error("coin ledger reconciliation found %d differences", len(differences))
        lines = "\n".join(str(d) for d in differences[:50])
        mail_admins(
            f"Coin ledger: {len(differences)} differences (reconciliation {result.pk})",
            "The coin ledger does not match its cached balances. Nothing was corrected.\n\n"
            + lines,
        )
    return result
