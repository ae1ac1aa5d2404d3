"""The account tests use the correction tests' world: Northside holds Maria's phone number and
shared it with Eastside and Hennepin County."""

from tests.corrections.conftest import other_browser, world

__all__ = ["other_browser", "world"]
