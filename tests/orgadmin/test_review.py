"""The data-justice review: each flag is raised by a plan that should raise it, and absent from
a plan that shouldn't. Pure functions over the purposes, so plans are plain dicts here."""

from __future__ import annotations

from typing import Any

import pytest

from app.orgadmin.review import DEFAULT_RETENTION_DAYS, review_plan


def good_purpose(key: str = "housing", **overrides: Any) -> dict[str, Any]:
    """A purpose that passes every rule on its own."""
    purpose: dict[str, Any] = {
        "key": key,
        "title": {"en": "Share with the county for housing help", "es": "Compartir con el condado"},
        "description": {
            "en": "So the county can find you housing sooner.",
            "es": "Para que el condado le busque vivienda.",
        },
        "basis": "consent",
        "categories": ["contact", "housing", "goals"],
        "recipients": [{"name": "Hennepin County", "reason": "housing referrals"}],
        "retention_days": 365,
        "refusal_consequence": {"en": "You still get food.", "es": "Igual recibe comida."},
        "legal_recipients": {},
        "sensitive": False,
    }
    purpose.update(overrides)
    return purpose


def kinds(purposes, **facts) -> set[str]:
    return review_plan(purposes, **facts).kinds()


def test_a_good_plan_raises_nothing():
    review = review_plan(
        [good_purpose()],
        held_categories={"contact": {"housing"}, "housing": {"housing"}},
        participant_languages={"en", "es"},
    )
    assert review.flags == []


@pytest.mark.parametrize(
    ("overrides", "anchor"),
    [
        ({"title": {"en": "Data"}}, "title-en"),
        ({"description": {}}, "description-en"),
        ({"description": {"en": "Needed."}}, "description-en"),
    ],
)
def test_no_clear_purpose_text(overrides, anchor):
    flags = review_plan([good_purpose(**overrides)]).flags
    unclear = [f for f in flags if f.kind == "unclear_purpose"]
    assert len(unclear) == 1
    assert unclear[0].href == f"/staff/org/plan/housing#{anchor}"
    assert unclear[0].message.endswith(".")


def test_a_category_collected_by_no_purpose():
    held = {"contact": {"housing"}, "income": {"housing"}}
    flags = [f for f in review_plan([good_purpose()], held_categories=held).flags]
    uncovered = [f for f in flags if f.kind == "uncovered_category"]
    assert [(f.purpose_key, f.anchor) for f in uncovered] == [("housing", "categories")]
    assert "Income" in uncovered[0].message
    # Listed by some purpose (even another one): covered.
    other = good_purpose("benefits", categories=["income"])
    assert "uncovered_category" not in kinds([good_purpose(), other], held_categories=held)


@pytest.mark.parametrize(
    ("days", "kind"),
    [(None, "no_retention"), (DEFAULT_RETENTION_DAYS + 1, "long_retention")],
)
def test_retention_missing_or_over_the_default(days, kind):
    flags = review_plan([good_purpose(retention_days=days)]).flags
    assert [(f.kind, f.anchor) for f in flags] == [(kind, "retention_days")]


def test_retention_at_the_default_is_fine():
    assert kinds([good_purpose(retention_days=DEFAULT_RETENTION_DAYS)]) == set()


def test_sensitive_category_without_a_stated_need():
    plan = [good_purpose(categories=["health", "goals"], description={})]
    flags = {f.kind: f for f in review_plan(plan).flags}
    assert flags["sensitive_without_need"].anchor == "description-en"
    assert "Health" in flags["sensitive_without_need"].message
    # The same categories with the need stated: no flag.
    assert "sensitive_without_need" not in kinds([good_purpose(categories=["health", "goals"])])
    # No sensitive category, no description: unclear, but not this flag.
    assert "sensitive_without_need" not in kinds([good_purpose(description={})])


def test_consent_purpose_without_refusal_consequence():
    flags = review_plan([good_purpose(refusal_consequence={})]).flags
    assert [(f.kind, f.anchor) for f in flags] == [
        ("no_refusal_consequence", "refusal_consequence-en")
    ]
    # Only consent purposes are asked: a service purpose has nothing to refuse.
    assert kinds([good_purpose(basis="service", refusal_consequence={})]) == set()


def test_recipients_without_a_reason():
    recipients = [
        {"name": "Hennepin County", "reason": "housing referrals"},
        {"name": "United Way"},
    ]
    flags = review_plan([good_purpose(recipients=recipients)]).flags
    assert [(f.kind, f.anchor) for f in flags] == [
        ("recipient_without_reason", "recipient-1-reason")
    ]
    assert "United Way" in flags[0].message


def test_a_language_the_participants_use_is_missing():
    purpose = good_purpose(
        title={"en": "Share with the county for housing help"},
        description={"en": "So the county can find you housing sooner."},
        refusal_consequence={"en": "You still get food."},
    )
    flags = review_plan([purpose], participant_languages={"en", "es"}).flags
    assert [(f.kind, f.anchor) for f in flags] == [("missing_language", "title-es")]
    assert "Spanish" in flags[0].message
    # Nobody reads Spanish: nothing missing.
    assert kinds([purpose], participant_languages={"en"}) == set()
    # A title in Spanish but not the description: the link goes to the description.
    half = dict(purpose, title={"en": "Share with the county", "es": "Compartir con el condado"})
    flag = review_plan([half], participant_languages={"es"}).flags[0]
    assert flag.anchor == "description-es"


def test_deficit_only_plan_without_strengths_or_goals():
    plan = [
        good_purpose("housing", categories=["contact", "housing"]),
        good_purpose("food", categories=["food", "income"]),
    ]
    flags = [f for f in review_plan(plan).flags if f.kind == "deficit_only"]
    assert [(f.purpose_key, f.anchor) for f in flags] == [("housing", "categories")]
    # A goals field anywhere in the plan answers it.
    with_goals = [*plan, good_purpose("plans", categories=["goals"])]
    assert "deficit_only" not in kinds(with_goals)
    # A plan with no deficit categories at all is not deficit-only.
    assert "deficit_only" not in kinds([good_purpose(categories=["contact"])])


def test_each_purpose_gets_its_own_flags():
    plan = [good_purpose("a", retention_days=None), good_purpose("b", refusal_consequence={})]
    review = review_plan(plan)
    assert {p.key: [f.kind for f in p.flags] for p in review.purposes} == {
        "a": ["no_retention"],
        "b": ["no_refusal_consequence"],
    }


# --- reports (app/reports): counting by sensitive data needs consent --------------------------


def test_a_report_counting_by_a_sensitive_category_without_consent_is_flagged():
    funder = good_purpose("funder", basis="funder_contract")
    counted = [{"key": "county", "purpose": "funder", "sensitive_categories": ["health"]}]
    review = review_plan([funder], reports=counted)
    flags = [f for f in review.flags if f.kind == "sensitive_report_without_consent"]
    assert len(flags) == 1 and "county" in flags[0].message
    assert flags[0].href == "/staff/org/plan/funder#basis"
    # With consent, or counting by nothing sensitive, nothing is flagged.
    assert "sensitive_report_without_consent" not in kinds(
        [good_purpose("funder")], reports=counted
    )
    plain = [{"key": "county", "purpose": "funder", "sensitive_categories": []}]
    assert "sensitive_report_without_consent" not in kinds([funder], reports=plain)
