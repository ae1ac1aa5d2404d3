"""The field encryption tests use the correction tests' world: Northside holds Maria's phone
number (pushed through the organization API) and she is signed in. The hashing and session tests use the
participant pages' Northside (`housing_org`) and Maria signed in there (`person`)."""

from tests.corrections.conftest import world
from tests.web.conftest import housing_org, person
from tests.webhooks.conftest import clock, make_worker, receiver  # the receivers' answers

__all__ = ["clock", "housing_org", "make_worker", "person", "receiver", "world"]
