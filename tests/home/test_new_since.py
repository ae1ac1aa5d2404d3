"""The home page's second section, New since your last visit: what each organization added,
changed or shared since the participant's previous visit (their previous web session), each
linked to its place; nothing from before, nothing of anyone else's, and no claim at all on a
first visit."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.disclosures.models import Disclosure
from app.holdings.models import Holding
from app.security.models import WebSession
from tests.factories import (
    Person,
    World,
    disclose,
    enroll_and_claim,
    hold,
    holding_id,
    log_in,
    logout,
)

MARIA = Person("maria", "482913", "", "N-1")


def _new_since(html: str) -> str:
    """The section's text, and a check that it sits between What needs you and the first
    organization's section."""
    start = html.index('<section class="attention new-since"')
    assert html.index('<section class="attention"') < start
    assert start < html.index('<section class="organization"')
    return html[start : html.index("</section>", start)].replace("&#39;", "'")


def _two_days_pass(db: Session) -> None:
    """Everything so far happened two days ago: the sessions (the earlier visits), the
    holdings and the disclosures."""
    db.expire_all()
    for rows, columns in (
        (db.exec(select(WebSession)).all(), ("created_at", "last_seen_at", "revoked_at")),
        (db.exec(select(Holding)).all(), ("created_at", "updated_at", "deleted_at")),
        (db.exec(select(Disclosure)).all(), ("created_at", "disclosed_at")),
    ):
        for row in rows:
            for name in columns:
                if getattr(row, name) is not None:
                    setattr(row, name, getattr(row, name) - timedelta(days=2))
            db.add(row)
    db.commit()


def _come_back(world: World, db: Session) -> None:
    """Maria leaves; two days pass; she logs in again (the organizations may act meanwhile)."""
    assert logout(world.maria).status_code == 303
    _two_days_pass(db)


def test_a_first_visit_calls_nothing_new(world):
    page = world.maria.get("/").text
    assert "New since your last visit" not in page
    assert "new-since" not in page


def test_new_and_changed_holdings_and_new_sharing_show_with_links(world, db):
    _come_back(world, db)
    hold(world.holder, "N-1", "income", label="Income", category="household", value="1200")
    hold(world.holder, "N-1", "phone", value="612-555-0111")  # the value changed
    disclose(world.holder, "N-1", {"name": "Metro Clinic"}, ["phone", "income"])
    log_in(world.maria, MARIA)

    section = _new_since(world.maria.get("/").text)
    assert "Your last visit was on" in section
    income = holding_id(db, "northside", "N-1", "income")
    assert "Northside Food Shelf added 1 thing:" in section
    assert f'<a href="#holding-{income}">Income</a>' in section
    assert "Northside Food Shelf changed 1 thing:" in section
    assert f'<a href="#holding-{world.phone}">Phone number</a>' in section
    assert 'href="#org-northside"' in section
    assert "Northside Food Shelf shared your data with Metro Clinic on" in section
    [metro] = [d for d in db.exec(select(Disclosure)).all() if d.recipient_name == "Metro Clinic"]
    assert f'href="#disclosure-{metro.id}"' in section
    # The sharing from before the last visit is not new.
    assert "Eastside Housing" not in section and "Hennepin County" not in section
    # Where it links to is on the page.
    page = world.maria.get("/").text
    assert f'id="holding-{income}"' in page and f'id="disclosure-{metro.id}"' in page


def test_nothing_new_says_so_and_old_items_never_show(world, db):
    _come_back(world, db)
    log_in(world.maria, MARIA)
    section = _new_since(world.maria.get("/").text)
    assert "Nothing is new since then." in section
    assert "Phone number" not in section and "shared your data" not in section


def test_what_arrives_during_the_visit_stays_new_until_the_next_one(world, db):
    _come_back(world, db)
    log_in(world.maria, MARIA)
    assert "Nothing is new since then." in _new_since(world.maria.get("/").text)
    hold(world.holder, "N-1", "income", label="Income", category="household", value="1200")
    section = _new_since(world.maria.get("/").text)
    assert "added 1 thing:" in section and "Income" in section
    # Logging out and straight back in is the same visit: still new.
    assert logout(world.maria).status_code == 303
    log_in(world.maria, MARIA)
    assert "Income" in _new_since(world.maria.get("/").text)
    # Two days later it was seen on the last visit.
    _come_back(world, db)
    log_in(world.maria, MARIA)
    assert "Nothing is new since then." in _new_since(world.maria.get("/").text)


def test_a_few_are_named_and_the_rest_counted(world, db):
    _come_back(world, db)
    for n in range(5):
        hold(world.holder, "N-1", f"f{n}", label=f"Thing {n}", category="household", value="x")
    for n in range(4):
        disclose(world.holder, "N-1", {"name": f"Clinic {n}"}, ["phone"])
    log_in(world.maria, MARIA)
    section = _new_since(world.maria.get("/").text)
    assert "Northside Food Shelf added 5 things:" in section
    assert section.count('href="#holding-') == 3 and "and 2 more" in section
    assert section.count('href="#disclosure-') == 3
    assert "Northside Food Shelf shared your data 1 more time" in section


def test_another_participants_news_never_show(world, db, other_browser):
    ana = enroll_and_claim(db, world.holder, external_ref="N-2", username="ana")
    log_in(other_browser, ana)  # Ana's first visit
    assert logout(other_browser).status_code == 303
    _come_back(world, db)
    hold(world.holder, "N-2", "income", label="Ana's income", category="household", value="9")
    disclose(world.holder, "N-2", {"name": "Ana's clinic"}, ["income"])
    log_in(world.maria, MARIA)
    section = _new_since(world.maria.get("/").text)
    assert "Nothing is new since then." in section
    assert "Ana" not in section
    # Ana, back too, sees her own.
    log_in(other_browser, ana)
    section = _new_since(other_browser.get("/").text)
    assert "Ana's income" in section and "Ana's clinic" in section
