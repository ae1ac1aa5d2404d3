"""The home page's first section, What needs you: data shared without consent, answers to
corrections, organizations late to answer, consent requests not decided, consents ending;
and plainly "nothing" when nothing needs the participant."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.consent.models import Consent
from app.db import utcnow
from tests.factories import (
    consent,
    corrections,
    enroll_and_claim,
    hold,
    holding_id,
    log_in,
    logout,
    request_correction,
    resolve,
)


def _attention(html: str) -> str:
    """The section's text, and a check that it comes before every organization's section."""
    start = html.index('<section class="attention"')
    assert start < html.index('<section class="organization"')
    return html[start : html.index("</section>", start)].replace("&#39;", "'")


def test_sharing_without_consent_and_an_undecided_request_come_first(world):
    section = _attention(world.maria.get("/").text)
    for recipient in ("Eastside Housing", "Hennepin County"):
        assert f"Shared your data with {recipient} without your consent, on" in section
    assert "<h3>Northside Food Shelf</h3>" in section  # said once, above its items
    assert "Asks for your consent: Share with the county" in section
    # Each is a link to its place.
    assert 'href="#disclosure-' in section and 'href="/consents/' in section


def test_answers_and_late_answers_to_corrections(world, db):
    assert request_correction(world.maria, world.phone).status_code == 303
    [first] = corrections(db)
    denied = resolve(world.holder, first.id, "denied", reason="We called the old number.")
    assert denied.status_code == 200
    hold(world.holder, "N-1", "household", label="Household size", value="3")
    household = holding_id(db, "northside", "N-1", "household")
    assert request_correction(world.maria, household, value="4", reason="A son moved in.")
    late = next(c for c in corrections(db) if c.holding_id == household)
    late.due_by = utcnow() - timedelta(days=2)
    db.add(late)
    db.commit()

    section = _attention(world.maria.get("/").text)
    assert "Refused your correction of" in section
    assert "We called the old number." in section
    assert f'href="#holding-{world.phone}"' in section  # where the reason and Add a statement are
    assert "Late to answer your correction of Household size" in section


def test_a_consent_that_ends_soon_and_then_nothing(client, person, db):
    assert "Asks for your consent" in _attention(client.get("/").text)
    consent(person.org, person.external_ref, state="given")
    assert "Nothing needs you right now." in _attention(client.get("/").text)

    given = db.exec(select(Consent).where(Consent.state == "given")).one()
    given.expires_at = utcnow() + timedelta(days=10)
    db.add(given)
    db.commit()
    section = _attention(client.get("/").text)
    assert "Your consent ends on " in section


def test_another_participants_matters_never_show(world, db):
    ana = enroll_and_claim(db, world.holder, external_ref="N-2", username="ana")
    assert logout(world.maria).status_code == 303
    log_in(world.maria, ana)  # the same browser, now Ana's
    section = _attention(world.maria.get("/").text)
    assert "without your consent" not in section  # Maria's disclosures are Maria's
    assert "Asks for your consent" in section  # Ana's own request is hers
