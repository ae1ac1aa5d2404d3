"""The field encryption tests use the correction tests' world: Northside holds Maria's phone
number (pushed through the organization API) and she is signed in."""

from tests.corrections.conftest import world

__all__ = ["world"]
