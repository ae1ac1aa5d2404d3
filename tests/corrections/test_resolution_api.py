"""The organization answers a correction: POST /api/v1/corrections/{id}/resolution."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.factories import corrections, enroll, events, request_correction, resolve, sign_up


@pytest.fixture
def requested(world, db):
    request_correction(world.maria, world.phone, "612-555-0199", "I changed my number.")
    (correction,) = corrections(db)
    return correction


def test_accepting_changes_the_holding_and_the_participant_sees_it(world, db, requested):
    response = resolve(world.holder, requested.id, "accepted", reason="Checked with you by phone.")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == requested.id and body["status"] == "accepted"
    assert body["corrected_value"] == "612-555-0199"

    (holding,) = world.holder.get("/api/v1/participants/N-1/holdings").json()["holdings"]
    assert holding["value"] == "612-555-0199"

    home = world.maria.get("/").text
    assert "612-555-0199" in home and "612-555-0100" not in home
    assert "Corrected on" in home


def test_accepting_with_another_value_uses_the_organizations_value(world, db, requested):
    response = resolve(world.holder, requested.id, "accepted", value="612-555-0198", reason="Typo")
    assert response.status_code == 200
    (holding,) = world.holder.get("/api/v1/participants/N-1/holdings").json()["holdings"]
    assert holding["value"] == "612-555-0198"


def test_data_corrected_goes_to_the_holder_and_each_network_recipient(world, db, requested):
    resolve(world.holder, requested.id, "accepted", reason="ok")

    corrected = events(db, type="data.corrected")
    assert [e.role for e in corrected] == ["holder", "recipient"]
    holder_event, recipient_event = corrected
    assert holder_event.data["organization"] == "northside"
    assert holder_event.data["role"] == "holder"
    assert holder_event.data["holding"]["old_value"] == "612-555-0100"
    assert holder_event.data["holding"]["new_value"] == "612-555-0199"
    assert holder_event.data["holding"]["field_key"] == "phone"
    # Only the holder can tell the county: the event lists it, and asks for an acknowledgement.
    assert holder_event.data["tell_recipients"] == [{"name": "Hennepin County"}]
    assert holder_event.data["ack_url"]

    assert recipient_event.data["organization"] == "eastside"
    assert recipient_event.data["role"] == "recipient"
    assert recipient_event.data["participant"] == {"external_ref": None}  # not enrolled there
    assert recipient_event.data["source"] == {"organization": "northside", "external_ref": "N-1"}
    assert recipient_event.data["holding"]["old_value"] == "612-555-0100"
    assert recipient_event.data["holding"]["new_value"] == "612-555-0199"
    assert "tell_recipients" not in recipient_event.data
    assert recipient_event.id != holder_event.id


def test_a_recipient_where_the_participant_has_an_account_gets_its_own_reference(
    world, db, requested
):
    code = enroll(world.recipient, "E-77")
    sign_up(world.maria, code, "maria")  # signed in: adds Eastside to Maria's account
    resolve(world.holder, requested.id, "accepted", reason="ok")
    (recipient_event,) = events(db, type="data.corrected", role="recipient")
    assert recipient_event.data["participant"] == {"external_ref": "E-77"}


def test_the_county_stays_listed_until_the_holder_acknowledges(world, db, requested):
    resolve(world.holder, requested.id, "accepted", reason="ok")
    home = world.maria.get("/").text
    assert "still has to tell the others it shared this with: Hennepin County" in home

    (holder_event,) = events(db, type="data.corrected", role="holder")
    ack = world.holder.post(f"/api/v1/events/{holder_event.id}/ack", {"outcome": "done"})
    assert ack.status_code == 200, ack.text
    assert "Hennepin County." not in world.maria.get("/").text


def test_denying_shows_the_reason_and_offers_a_statement(world, db, requested):
    response = resolve(world.holder, requested.id, "denied", reason="Our records show otherwise.")
    assert response.status_code == 200
    assert response.json()["status"] == "denied"
    (holding,) = world.holder.get("/api/v1/participants/N-1/holdings").json()["holdings"]
    assert holding["value"] == "612-555-0100"
    assert events(db, type="data.corrected") == []

    home = world.maria.get("/").text
    assert "did not accept your correction" in home
    assert "Our records show otherwise." in home
    assert f'href="/corrections/{requested.id}/statement"' in home
    assert "Add a statement" in home
    # A new correction may be asked for again.
    assert f'href="/holdings/{world.phone}/correction"' in home


def test_a_denial_needs_a_reason(world, requested):
    response = resolve(world.holder, requested.id, "denied")
    assert response.status_code == 422
    assert "reason" in response.json()["detail"]


def test_the_same_answer_twice_is_fine_and_a_different_one_conflicts(world, db, requested):
    assert resolve(world.holder, requested.id, "accepted", reason="ok").status_code == 200
    assert resolve(world.holder, requested.id, "accepted", reason="ok").status_code == 200
    assert len(events(db, type="data.corrected", role="holder")) == 1
    again = resolve(world.holder, requested.id, "denied", reason="changed my mind")
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "maybe", "reason": "x"},
        {"reason": "x"},
        {"outcome": "accepted", "value": "x" * 10_001},
        {"outcome": "denied", "reason": "x" * 3000},
        {"outcome": "denied", "reason": "bad\x00byte"},
        {"outcome": "accepted", "surprise": True},
    ],
)
def test_bad_bodies_are_422_never_500(world, requested, body):
    response = world.holder.post(f"/api/v1/corrections/{requested.id}/resolution", body)
    assert response.status_code == 422, response.text


def test_another_organizations_key_gets_404(world, db, requested):
    response = resolve(world.recipient, requested.id, "accepted", reason="not mine")
    assert response.status_code == 404
    assert world.recipient.get(f"/api/v1/corrections/{requested.id}").status_code == 404
    assert world.recipient.get("/api/v1/corrections").json() == {"corrections": []}
    (correction,) = corrections(db)
    assert correction.status == "requested"


@pytest.mark.parametrize("correction_id", ["cor_0000000000000000", "nope", "x" * 300, "cor_%00"])
def test_unknown_corrections_are_404(world, correction_id):
    response = resolve(world.holder, correction_id, "accepted", reason="?")
    assert response.status_code == 404


def test_without_a_key_it_is_401(world, requested):
    response = world.holder.client.post(
        f"/api/v1/corrections/{requested.id}/resolution", json={"outcome": "accepted"}
    )
    assert response.status_code == 401


def test_the_holder_can_list_and_read_its_corrections(world, requested):
    listed = world.holder.get("/api/v1/corrections").json()["corrections"]
    assert [c["id"] for c in listed] == [requested.id]
    one = world.holder.get(f"/api/v1/corrections/{requested.id}").json()
    assert one["participant"] == {"external_ref": "N-1"}
    assert one["requested_value"] == "612-555-0199" and one["status"] == "requested"
    datetime.fromisoformat(one["due_by"])
    assert world.holder.get("/api/v1/corrections?status=denied").json() == {"corrections": []}


def test_a_deleted_holding_can_not_be_corrected(world, requested):
    assert world.holder.delete("/api/v1/participants/N-1/holdings/phone").status_code == 204
    assert resolve(world.holder, requested.id, "accepted", reason="ok").status_code == 409
