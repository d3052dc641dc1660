"""Staff notifications (DESIGN §2): ``notify`` writes in-app rows for the shop's members and sends
email once the transaction commits, each as the member's preferences say; a bell with the unread
count; a list page, tenant-aware; a preferences form."""

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from factories import login_client, make_member, make_shop, make_user

from core.errors import DomainError
from shops.models import Membership, Notification, NotificationPreference, Role
from shops.selectors import unread_notification_count
from shops.services import notification_preferences_set, notify

LIST = "/shops/notifications/"


def _notify(shop, **kw):
    kw.setdefault("kind", "activity_exit")
    kw.setdefault("title", "Your shop left the 11.11 activity")
    return notify(shop=shop, **kw)


# --- notify ------------------------------------------------------------------------------------


def test_notify_tells_every_member_in_app_and_by_email_after_commit(
    shop_a, owner, marketer, analyst, other_owner, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = _notify(shop_a, body="Cancel rate 16.7% on two days.", link="/activities/")
        # then: no email before the commit
        assert mail.outbox == []
    for callback in callbacks:
        callback()

    # then
    assert sorted(n.recipient.username for n in rows) == ["analyst", "marketer", "owner"]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "analyst@staff.example.com",
        "marketer@staff.example.com",
        "owner@staff.example.com",
    ]
    message = mail.outbox[0]
    assert message.subject == "Shop A: Your shop left the 11.11 activity"
    assert "Cancel rate 16.7% on two days." in message.body
    assert "/activities/" in message.body
    assert not Notification.objects.filter(recipient=other_owner).exists()


def test_a_rolled_back_notify_sends_no_email(shop_a, owner, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                _notify(shop_a)
                raise RuntimeError("the caller's transaction fails")
        except RuntimeError:
            pass
    # then
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_notify_by_role_and_by_user_reaches_only_members(
    shop_a, owner, marketer, analyst, other_owner, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        by_role = _notify(shop_a, roles=[Role.OWNER, Role.MARKETER])
        by_user = _notify(shop_a, users=[analyst, other_owner])

    # then: other_owner is not a member of shop A and hears nothing
    assert sorted(n.recipient.username for n in by_role) == ["marketer", "owner"]
    assert [n.recipient.username for n in by_user] == ["analyst"]
    assert "other_owner@staff.example.com" not in {m.to[0] for m in mail.outbox}


def test_preferences_are_respected_per_kind(
    shop_a, owner, marketer, django_capture_on_commit_callbacks
):
    # given: the owner wants activity exits by email only, the marketer in the app only
    notification_preferences_set(user=owner, choices={"activity_exit": (False, True)})
    notification_preferences_set(user=marketer, choices={"activity_exit": (True, False)})

    # when
    with django_capture_on_commit_callbacks(execute=True):
        rows = _notify(shop_a)
        other_kind = _notify(shop_a, kind="balance", title="Balance low")

    # then
    assert [n.recipient.username for n in rows] == ["marketer"]
    assert [m.to[0] for m in mail.outbox if "11.11" in m.subject] == ["owner@staff.example.com"]
    # another kind keeps its defaults (both channels)
    assert sorted(n.recipient.username for n in other_kind) == ["marketer", "owner"]


def test_members_without_email_or_inactive_get_what_they_can(
    shop_a, owner, django_capture_on_commit_callbacks
):
    # given
    quiet = make_member(shop_a, Role.MARKETER, username="quiet")
    quiet.email = ""
    quiet.save()
    gone = make_member(shop_a, Role.ANALYST, username="gone")
    gone.is_active = False
    gone.save()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        rows = _notify(shop_a)
    # then
    assert sorted(n.recipient.username for n in rows) == ["owner", "quiet"]
    assert [m.to[0] for m in mail.outbox] == ["owner@staff.example.com"]


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"kind": "gossip"}, "invalid_kind"),
        ({"title": "  "}, "invalid_title"),
        ({"title": "x" * 201}, "invalid_title"),
        ({"link": "https://evil.example/"}, "invalid_link"),
        ({"link": "//evil.example/"}, "invalid_link"),
        ({"link": "javascript:alert(1)"}, "invalid_link"),
        ({"roles": ["owner"], "users": []}, "invalid_recipients"),
    ],
)
def test_bad_notifications_are_refused_and_nothing_is_sent(
    shop_a, owner, kw, code, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as err:
        _notify(shop_a, **kw)
    # then
    assert err.value.code == code
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_mail_outage_does_not_fail_the_caller(
    shop_a, owner, settings, caplog, django_capture_on_commit_callbacks
):
    # given
    settings.EMAIL_BACKEND = "tests.no_such_backend.EmailBackend"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        rows = _notify(shop_a)
    # then
    assert len(rows) == 1
    assert "notification email" in caplog.text


def test_db_refuses_a_link_outside_the_app(shop_a, owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=owner, shop=shop_a, kind="general", title="x", link="https://evil.example"
        )


def test_db_refuses_an_unknown_kind_and_a_second_preference_row(shop_a, owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=owner, shop=shop_a, kind="gossip", title="x")
    NotificationPreference.objects.create(user=owner, kind="general")
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationPreference.objects.create(user=owner, kind="general")


# --- the bell and the list ---------------------------------------------------------------------


def test_bell_shows_the_unread_count_of_the_users_shops(shop_a, owner, owner_client, marketer):
    # given: 3 for the owner, one of them read; one for the marketer
    rows = [_notify(shop_a, users=[owner], title=f"N{i}")[0] for i in range(3)]
    _notify(shop_a, users=[marketer])
    owner_client.post(f"{LIST}{rows[0].pk}/read/")

    # when
    text = owner_client.get("/").text

    # then
    assert 'data-unread="2"' in text
    assert "Notifications: 2 unread" in text


def test_bell_forgets_a_shop_the_user_left(shop_a, owner, owner_client):
    # given
    _notify(shop_a, users=[owner])
    second = make_shop()
    Membership.objects.create(user=owner, shop=second, role=Role.OWNER)
    _notify(second, users=[owner])
    assert unread_notification_count(user=owner, shop_ids=[shop_a.pk, second.pk]) == 2

    # when
    Membership.objects.filter(user=owner, shop=second).delete()

    # then
    assert 'data-unread="1"' in owner_client.get("/").text


def test_list_shows_own_notifications_newest_first(shop_a, owner, owner_client, marketer):
    # given
    _notify(shop_a, users=[owner], title="Older", body="line one\nline two")
    _notify(shop_a, users=[owner], title="Newer")
    _notify(shop_a, users=[marketer], title="For the marketer")

    # when
    text = owner_client.get(LIST).text

    # then
    assert text.index("Newer") < text.index("Older")
    assert "line one<br>line two" in text
    assert "For the marketer" not in text


def test_list_escapes_what_it_shows(shop_a, owner, owner_client):
    # given
    _notify(shop_a, users=[owner], title="<script>alert(1)</script>")
    # when
    text = owner_client.get(LIST).text
    # then
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text


def test_unread_filter_and_pagination(shop_a, owner, owner_client, settings):
    # given
    settings.SC_PAGE_SIZE = 2
    rows = [_notify(shop_a, users=[owner], title=f"Note {i}")[0] for i in range(3)]
    owner_client.post(f"{LIST}{rows[2].pk}/read/")

    # when
    unread = owner_client.get(LIST, {"show": "unread"}).text
    page2 = owner_client.get(LIST, {"page": 2}).text
    partial = owner_client.get(LIST, {"page": 2}, headers={"HX-Request": "true"}).text

    # then
    assert "Note 2" not in unread
    assert "Note 1" in unread
    assert "Note 0" in page2
    assert "Note 0" in partial
    assert "<html" not in partial


def test_mark_read_and_open_follows_the_link(shop_a, owner, owner_client):
    # given
    (row,) = _notify(shop_a, users=[owner], link="/activities/")
    # when
    response = owner_client.post(f"{LIST}{row.pk}/read/", {"open": "1"})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/activities/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_mark_all_read(shop_a, owner, owner_client, marketer):
    # given
    _notify(shop_a, users=[owner])
    _notify(shop_a, users=[owner])
    (theirs,) = _notify(shop_a, users=[marketer])

    # when
    response = owner_client.post(f"{LIST}read-all/", follow=True)

    # then
    assert "2 notifications marked as read." in response.text
    assert unread_notification_count(user=owner, shop_ids=[shop_a.pk]) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("path", ["{pk}/read/", "99999999999999999999999/read/"])
def test_another_users_notification_is_404(shop_a, owner, marketer, marketer_client, path):
    # given
    (row,) = _notify(shop_a, users=[owner])
    # when
    response = marketer_client.post(LIST + path.format(pk=row.pk))
    # then
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_read_actions_need_post_and_the_list_is_read_only(shop_a, owner, owner_client):
    # given
    (row,) = _notify(shop_a, users=[owner])
    # then
    assert owner_client.get(f"{LIST}{row.pk}/read/").status_code == 405
    assert owner_client.get(f"{LIST}read-all/").status_code == 405
    assert owner_client.post(LIST).status_code == 405


def test_anonymous_is_sent_to_login(client, db):
    assert client.get(LIST).status_code == 302


def test_preferences_form_saves_choices(owner, owner_client):
    # given: everything on by default
    page = owner_client.get(f"{LIST}preferences/")
    assert page.status_code == 200
    assert 'name="activity_exit__email" id="id_activity_exit__email" checked' in page.text

    # when: only in-app for activity exits, nothing for grade changes
    data = {
        f"{k}__{c}": "on" for k in ("auto_pause", "balance", "general") for c in ("in_app", "email")
    }
    data["activity_exit__in_app"] = "on"
    response = owner_client.post(f"{LIST}preferences/", data)

    # then
    assert response.status_code == 302
    prefs = {p.kind: (p.in_app, p.email) for p in NotificationPreference.objects.filter(user=owner)}
    assert prefs["activity_exit"] == (True, False)
    assert prefs["grade_change"] == (False, False)
    assert prefs["balance"] == (True, True)


def test_pages_in_chinese(shop_a, owner, owner_client):
    # given
    owner_client.cookies["django_language"] = "zh-hans"
    # when
    listing = owner_client.get(LIST).text
    prefs = owner_client.get(f"{LIST}preferences/").text
    # then
    assert "通知" in listing
    assert "暂无通知" in listing
    assert "通知偏好" in prefs


@pytest.mark.parametrize("url", ["/", LIST, LIST + "?show=unread", LIST + "preferences/"])
def test_query_counts_do_not_grow_with_notifications(db, url):
    # given: a user with 2 notifications and one with 40
    clients = []
    for n in (2, 40):
        shop = make_shop()
        user = make_member(shop, Role.OWNER)
        for i in range(n):
            _notify(shop, users=[user], title=f"N{i}")
        clients.append(login_client(user, shop))
    for c in clients:
        c.get(url)  # warm-up

    # when
    counts = []
    for c in clients:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))

    # then
    assert counts[0] == counts[1]


def test_the_bell_costs_one_query(shop_a, owner, owner_client):
    # given
    owner_client.get(LIST + "preferences/")
    # when
    with CaptureQueriesContext(connection) as ctx:
        owner_client.get(LIST + "preferences/")
    # then
    bell = [q for q in ctx.captured_queries if 'FROM "shops_notification"' in q["sql"]]
    assert len(bell) == 1
    assert "COUNT" in bell[0]["sql"]


def test_user_with_no_shop_sees_an_empty_bell(client, db):
    # given
    user = make_user("loner")
    client.force_login(user)
    # when
    response = client.get(LIST)
    # then
    assert response.status_code == 200
    assert "No notifications yet." in response.text


def test_admin_lists_notifications_view_only(admin_client, shop_a, owner):
    # given
    (row,) = _notify(shop_a, users=[owner], title="Grade changed to L4")
    # when
    listing = admin_client.get("/admin/shops/notification/", {"q": "Grade"})
    change = admin_client.post(f"/admin/shops/notification/{row.pk}/change/", {"title": "x"})
    # then
    assert "Grade changed to L4" in listing.text
    assert change.status_code == 403


def test_db_refuses_a_preference_of_an_unknown_kind(owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationPreference.objects.create(user=owner, kind="gossip")


# --- worded when shown (shops.notices) ---------------------------------------------------------


def test_a_message_is_stored_in_english_and_shown_in_the_readers_language(
    shop_a, owner, owner_client
):
    # given: a job running in Chinese tells the shop its coin budget is spent
    from django.utils import translation

    with translation.override("zh-hans"):
        (row,) = notify(
            shop=shop_a,
            kind="auto_pause",
            message="coins.ceiling_reached",
            params={"issued": 50000, "ceiling": 50000},
            users=[owner],
        )
    # then: the row keeps the facts and the English wording
    row.refresh_from_db()
    assert (row.message, row.params) == (
        "coins.ceiling_reached",
        {"issued": 50000, "ceiling": 50000},
    )
    assert row.title == "Coin issuance paused: the monthly ceiling is reached"
    assert "50000 of its 50000-coin monthly ceiling" in row.body
    # when: the owner reads the list in Chinese, then in English
    owner_client.cookies["django_language"] = "zh-hans"
    zh = owner_client.get(LIST).text
    owner_client.cookies["django_language"] = "en"
    en = owner_client.get(LIST).text
    # then: each in its reader's language
    with translation.override("zh-hans"):
        title_zh = translation.gettext("Coin issuance paused: the monthly ceiling is reached")
    assert title_zh != row.title
    assert title_zh in zh
    assert row.title not in zh
    assert row.title in en
    assert title_zh not in en


def test_a_message_that_cannot_be_worded_is_refused_and_nothing_is_written(shop_a, owner):
    # when / then: an unknown message, missing facts
    for message, params in (
        ("coins.no_such_message", {}),
        ("nowhere.ceiling_reached", {}),
        ("coins.ceiling_reached", {"issued": 1}),
        ("coins", {}),
    ):
        with pytest.raises(DomainError) as exc:
            notify(shop=shop_a, kind="auto_pause", message=message, params=params)
        assert exc.value.code == "invalid_message"
    assert not Notification.objects.exists()


def test_a_message_whose_facts_no_longer_word_shows_its_stored_text(shop_a, owner, owner_client):
    # given: a row whose facts were lost (a renamed message, edited facts)
    (row,) = notify(
        shop=shop_a,
        kind="balance",
        message="coins.fund_low",
        params={"rule": "Welcome", "coins": 100, "order": "ORD-1"},
        users=[owner],
    )
    Notification.objects.filter(pk=row.pk).update(params={"rule": "Welcome"})
    Notification.objects.create(
        recipient=owner, shop=shop_a, kind="balance", title="Written as text", body="Plain."
    )
    # when
    owner_client.cookies["django_language"] = "zh-hans"
    page = owner_client.get(LIST).text
    # then: the stored English wording, and the plain one as written
    assert "Coins not issued: the coin fund is too low" in page
    assert "Written as text" in page


@pytest.mark.parametrize(
    ("message", "params"),
    [
        ("coins.ceiling_reached", {"issued": 10, "ceiling": 10}),
        ("coins.fund_low", {"rule": "R", "coins": 5, "order": "O-1"}),
        (
            "affiliate.commissions_blocked",
            {"count": 2, "amount_minor": 12345, "currency": "CNY"},
        ),
        ("mailing.domain_failed", {"domain": "mail.example.com", "records": ["SPF", "DKIM"]}),
        (
            "mailing.paused",
            {"days": 3, "breaches": ["bounce"], "campaign": "C", "domain": "example.com"},
        ),
        (
            "activities.exit",
            {
                "metrics": [
                    {
                        "metric": "cancel",
                        "today": "16.7",
                        "yesterday": "15.0",
                        "limit": "15",
                        "orders": ["ORD-9"],
                    }
                ],
                "postmortem_hours": 48,
            },
        ),
        (
            "activities.findings",
            {
                "count": 3,
                "findings": [
                    {"order": "ORD-1", "sku": "S1", "kind": "price", "expected": "1", "found": "2"}
                ],
                "more": 2,
            },
        ),
        ("activities.decision", {"decision": "appeal_dismissed", "reason": "No", "due": ""}),
        (
            "activities.decision",
            {"decision": "postmortem_rejected", "reason": "No", "due": "2026-12-03 10:00"},
        ),
    ],
)
def test_every_message_is_worded_in_english_and_in_chinese(message, params):
    from django.utils import translation

    from shops.notices import words

    # when
    with translation.override("en"):
        en = words(message, params)
    with translation.override("zh-hans"):
        zh = words(message, params)
    # then: both parts worded, the Chinese one from the catalogue (not the English text)
    assert all(en)
    assert all(zh)
    assert zh[0] != en[0]
    assert zh[1] != en[1]
