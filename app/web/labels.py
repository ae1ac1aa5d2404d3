"""Plain-language words for the domain's codes (bases, states, methods, retention periods):
presentation only. Categories, and which of them are sensitive, are the plan's rule:
app/organizations/categories.py."""

from __future__ import annotations

from app.i18n import gettext, ngettext
from app.i18n import lazy_gettext as _l

BASIS_WORDS = {
    "consent": _l("Only with your consent"),
    "service": _l("Needed to give you the service"),
    "legal_obligation": _l("Required by law"),
    "funder_contract": _l("Required by a funder's contract"),
}

# A consent's state by its name (the word organizations and the API use)...
STATE_NAMES = {
    "requested": _l("Requested"),
    "given": _l("Given"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("Expired"),
}

# ...and what it means for the participant, in plain words.
STATE_WORDS = {
    "requested": _l("Not decided yet"),
    "given": _l("You gave consent"),
    "refused": _l("You said no"),
    "withdrawn": _l("You withdrew consent"),
    "expired": _l("Consent expired"),
}

METHOD_WORDS = {
    "self": _l("by you, in the portal"),
    "assisted": _l("with help from a case manager"),
    "paper": _l("on a paper form"),
    "verbal": _l("out loud, recorded by staff"),
}


def basis_words(basis: str) -> str:
    return str(BASIS_WORDS.get(basis, basis))


def state_words(state: str) -> str:
    return str(STATE_WORDS.get(state, state))


def state_name(state: str) -> str:
    return str(STATE_NAMES.get(state, state))


def method_words(method: str) -> str:
    return str(METHOD_WORDS.get(method, method))


def retention_words(days: int | None, *, after_collection: bool = False) -> str:
    """A retention period as people say it: "5 years" rather than "1825 days"."""
    if not days:
        return gettext("No limit set")
    if days % 365 == 0:
        years = days // 365
        if after_collection:
            return ngettext(
                "%(num)d year after collection", "%(num)d years after collection", years
            )
        return ngettext("%(num)d year", "%(num)d years", years)
    if after_collection:
        return ngettext("%(num)d day after collection", "%(num)d days after collection", days)
    return ngettext("%(num)d day", "%(num)d days", days)
