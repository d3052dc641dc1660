"""core.errors: a refused operation carries a stable code and the message shown to the user."""

import pytest

from core.errors import DomainError, InvalidTransition, NotFound


def test_a_domain_error_keeps_its_message_and_default_code():
    # when
    error = DomainError("Nothing changed.")

    # then
    assert (error.code, error.message, str(error)) == (
        "domain_error",
        "Nothing changed.",
        "Nothing changed.",
    )


def test_a_code_given_at_raise_time_wins_over_the_class_code():
    # when
    error = InvalidTransition("No.", code="not_paid")

    # then: the instance code, the class keeps its own
    assert error.code == "not_paid"
    assert InvalidTransition.code == "invalid_transition"
    assert InvalidTransition("No.").code == "invalid_transition"


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (DomainError, "domain_error"),
        (InvalidTransition, "invalid_transition"),
        (NotFound, "not_found"),
    ],
)
def test_each_refusal_class_has_its_own_code_and_is_a_domain_error(cls, code):
    # when
    error = cls("Refused.")

    # then
    assert isinstance(error, DomainError)
    assert error.code == code
    assert error.message == "Refused."


def test_an_empty_code_keeps_the_class_code():
    # when / then
    assert NotFound("Gone.", code="").code == "not_found"
    assert NotFound("Gone.", code=None).code == "not_found"
