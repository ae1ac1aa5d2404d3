from tests.conftest import holding_body, purpose_body


def test_enroll_and_hold(org):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    r = org.post("/api/v1/participants", {"external_ref": "A-1"})
    assert r.status_code == 201, r.text
    r = org.put("/api/v1/participants/A-1/holdings/phone", holding_body())
    assert r.status_code == 201, r.text
