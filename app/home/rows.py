"""The rows of one organization's section of the home page: each holding, disclosure, consent
and purpose, drawn in Python.

A participant may have hundreds of rows, and in a template each row cost about forty
attribute lookups, a dozen escapes and half a dozen calls (bench/home_page.py measured the
rows as half the page's time). Here a row is one format string filled with words worked out
once per section. A sensitive value hidden behind Show is drawn here too (holding_value, which
its HTMX swap uses as well). What is rare keeps its macro: the corrections, statements and
deletion requests made about a holding (corrections/holding_actions.html), which the section
hands over and a row calls only when there are some.

Rows are f-strings, not Markup.format (a pure-Python formatter, slower than the template
was): every text inserted goes through `escape` (markupsafe's C escape), except Markup made
here or by a macro. Ids are ours and need none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup, escape

from app.home.read_model import ConsentView, DisclosureView, HoldingView, OrganizationView
from app.home.words import PurposeWords, purpose_words
from app.i18n import format_date, gettext
from app.organizations.categories import category_name
from app.web import labels
from app.web.templating import OwnWords


def _text(text: str) -> str:
    """A plain text escaped for HTML, as markupsafe's `escape` does it (the same five
    characters, the same entities) but as a plain string: at hundreds of values a page, a
    Markup object per value and its formatting cost more than the rest of the row."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


class SectionRows:
    """One organization's rows, in the page's language (set before the section is drawn).

    holding_actions(item, org) is the macro for a holding with requests made about it;
    `shown` is the id of the sensitive value the participant asked to see, or None."""

    def __init__(
        self,
        org: OrganizationView,
        words: dict[int | None, PurposeWords],
        own: OwnWords,
        holding_actions: Callable[..., Any],
        shown: str | None,
    ) -> None:
        self.org, self.words, self.own, self.shown = org, words, own, shown
        self.holding_actions = holding_actions
        # The words every row repeats, translated and escaped once per section.
        t = {
            "why": gettext("Why"),
            "allowed": gettext("Allowed because"),
            "source": gettext("Where it came from"),
            "kept": gettext("Kept until"),
            "not_recorded": gettext("Not recorded"),
            "deleted": gettext("Deleted"),
            "correct": gettext("Request a correction"),
            "delete": gettext("Ask to delete"),
            "when": gettext("When"),
            "what": gettext("What"),
            "consent": gettext("Your consent"),
            "covered": gettext("Your consent covered it"),
            "not_covered": gettext("Your consent did not cover it"),
            "warning": gettext("Warning:"),
            "concern": gettext("Raise a concern"),
            "without_consent": gettext("Shared without your consent."),
            "not_in_plan": gettext("This recipient was not listed in the organization's plan."),
            "withdraw": gettext("Withdraw consent"),
            "give": gettext("Give consent"),
            "details": gettext("Details and history"),
            "kept_for": gettext("Kept for"),
            "shared_with": gettext("May be shared with"),
            "if_no": gettext("If you say no"),
            "by_law": gettext(
                "The law requires %(organization)s to keep this, so it can't simply be deleted.",
                organization=org.organization.name,
            ),
        }
        self.t = t = {key: str(escape(text)) for key, text in t.items()}
        # Per purpose, the facts each of its holdings and disclosures repeat, and what the
        # "not recorded" source and "kept until" say when a row has no date of its own.
        # The kinds of data held, in the page's language, in the order they are listed.
        self.kinds = [category_name(category) for category in org.categories]
        self.holding_facts: dict[int | None, str] = {}
        self.disclosure_facts: dict[int | None, str] = {}
        self.kept: dict[int | None, str] = {}
        for purpose in org.purposes:
            w = words[purpose.id]
            title, basis = escape(w.title), escape(w.basis)
            self.holding_facts[purpose.id] = (
                f'<dt>{t["why"]}</dt><dd><a href="{escape(w.href)}">{title}</a></dd>'
                f"<dt>{t['allowed']}</dt><dd>{basis}</dd>"
            )
            allowed = (
                f"<dt>{t['consent']}</dt><dd>{t['covered']}</dd>"
                if purpose.basis == "consent"
                else f"<dt>{t['allowed']}</dt><dd>{basis}</dd>"
            )
            self.disclosure_facts[purpose.id] = f"<dt>{t['why']}</dt><dd>{title}</dd>{allowed}"
            self.kept[purpose.id] = str(escape(w.kept_after_collection))

    def holdings_by_kind(self) -> Markup:
        """Every holding, under a heading for each kind (category) of data."""
        return Markup(  # noqa: S704 - escaped
            "".join(
                f'<h4 class="category">{escape(kind)}</h4>\n<ul class="holdings">\n'
                + "".join(self.holding(item) for item in items)
                + "</ul>\n"
                for kind, items in zip(self.kinds, self.org.categories.values(), strict=True)
            )
        )

    def holding(self, item: HoldingView) -> str:
        h, t = item.holding, self.t
        hid, purpose_id = h.id, h.purpose_id
        facts = self.holding_facts[purpose_id]
        if item.deleted:
            note = gettext(
                "on %(date)s. The organization no longer holds it.", date=format_date(h.deleted_at)
            )
            body = (
                f'<p class="deleted-note"><strong>{t["deleted"]}</strong> {escape(note)}</p>'
                f'<dl class="facts">{facts}</dl>'
            )
        else:
            if item.hidden_at_first:
                value = holding_value(item, self.shown == hid)
            else:
                value = (
                    f'<div class="value" id="value-{hid}" tabindex="-1">'
                    f'<p class="value-text">{_text(h.value or "")}</p></div>'
                )
            # A plain label or source (no text per language) is only escaped: most rows.
            source = (str(self.own.source(h)) if h.source_texts else _text(h.source or "")) or t[
                "not_recorded"
            ]
            if h.collected_at:
                source = f"{source}, {_text(format_date(h.collected_at))}"
            kept = _text(format_date(h.retain_until)) if h.retain_until else self.kept[purpose_id]
            body = (
                f'{value}<dl class="facts">{facts}<dt>{t["source"]}</dt><dd>{source}</dd>'
                f"<dt>{t['kept']}</dt><dd>{kept}</dd></dl>"
            )
        label = self._label(h)
        if item.record is not None:
            # Corrections, statements and deletion requests of it, and what may be asked.
            actions = str(self.holding_actions(item, self.org))
        elif not item.deleted:
            # Nothing asked about it yet: the requests anyone may make (as the macro offers).
            actions = (
                f'<div class="holding-record"><p class="actions">{self._ask(hid, "correction")}'
                + (f" {self._ask(hid, 'deletion')}" if self.words[purpose_id].may_delete else "")
                + "</p>"
            )
            if item.purpose.basis == "legal_obligation":
                actions += (
                    f'<p class="gentle">{t["by_law"]} <a href="/holdings/{hid}/deletion">'
                    f'{t["why"]}<span class="visually-hidden">: {label}</span></a></p>'
                )
            actions += "</div>"
        else:
            actions = ""
        return (
            f'<li class="holding{" deleted" if item.deleted else ""}" id="holding-{hid}">'
            f'<p class="label" id="label-{hid}">{label}</p>{body}{actions}</li>\n'
        )

    def _label(self, holding: Any) -> str:
        # A plain label (no text per language) is only escaped: most rows.
        return str(self.own.label(holding)) if holding.label_texts else _text(holding.label)

    def _ask(self, holding_id: str, what: str) -> str:
        text = self.t["correct" if what == "correction" else "delete"]
        return (
            f'<a class="button secondary" href="/holdings/{holding_id}/{what}"'
            f' aria-describedby="label-{holding_id}">{text}</a>'
        )

    def disclosures(self, items: Iterable[DisclosureView]) -> Markup:
        return Markup("".join(self.disclosure(d) for d in items))  # noqa: S704 - escaped

    def disclosure(self, d: DisclosureView) -> str:
        disclosure, t = d.disclosure, self.t
        did = disclosure.id
        flag = ""
        if disclosure.flagged:
            reasons = " ".join(
                t[key]
                for reason, key in (
                    ("consent_not_given", "without_consent"),
                    ("recipient_not_in_plan", "not_in_plan"),
                )
                if reason in disclosure.flag_reasons
            )
            flag = (
                f'<p class="flag"><span aria-hidden="true">⚠ </span>'
                f"<strong>{t['warning']}</strong> {reasons}</p>"
                f'<p><a class="button secondary" href="/disclosures/{did}/concern"'
                f' aria-describedby="disclosure-{did}">{t["concern"]}</a></p>'
            )
        if d.consent_covered is False:
            title = escape(self.words[disclosure.purpose_id].title)
            why = (
                f"<dt>{t['why']}</dt><dd>{title}</dd>"
                f"<dt>{t['consent']}</dt><dd><strong>{t['not_covered']}</strong></dd>"
            )
        else:
            why = self.disclosure_facts[disclosure.purpose_id]
        what = ", ".join(_text(h) if isinstance(h, str) else self._label(h) for h in d.shared)
        return (
            f'<li class="disclosure{" flagged" if disclosure.flagged else ""}">{flag}'
            f'<p class="label" id="disclosure-{did}">{_text(disclosure.recipient_name)}</p>'
            f'<dl class="facts"><dt>{t["when"]}</dt>'
            f"<dd>{_text(format_date(disclosure.disclosed_at))}</dd>"
            f"<dt>{t['what']}</dt><dd>{what}</dd>{why}</dl></li>\n"
        )

    def consents(self, items: Iterable[ConsentView]) -> Markup:
        return Markup("".join(self.consent(c) for c in items))  # noqa: S704 - escaped

    def consent(self, c: ConsentView) -> str:
        t, key = self.t, c.purpose.key
        cid = f"consent-{self.org.organization.slug}-{key}"
        href = f"/consents/{self.org.enrollment.id}/{key}"
        state = escape(labels.state_words(c.state))
        how = ""
        if c.consent is not None and c.consent.method != "self":
            by = f", {escape(c.consent.recorded_by)}" if c.consent.recorded_by else ""
            how = f" ({escape(labels.method_words(c.consent.method))}{by})"
        until = ""
        if c.state == "given" and c.consent is not None and c.consent.expires_at:
            until = ". " + escape(gettext("Until %(date)s", date=format_date(c.consent.expires_at)))
        decision, style, text = (
            ("withdraw", "secondary", t["withdraw"])
            if c.state == "given"
            else ("give", "primary", t["give"])
        )
        return (
            f'<li class="consent" id="{escape(cid)}">'
            f'<p class="label" id="{escape(cid)}-title">{escape(self.words[c.purpose.id].title)}</p>'
            f'<p class="state state-{escape(c.state)}"><strong>{escape(labels.state_name(c.state))}'
            f"</strong>: {state}{how}{until}</p>"
            f'<div class="actions"><form method="get" action="{escape(href)}">'
            f'<input type="hidden" name="decision" value="{decision}">'
            f'<button type="submit" class="button {style}" aria-describedby="{escape(cid)}-title">'
            f"{text}</button></form>"
            f' <a href="{escape(href)}" aria-describedby="{escape(cid)}-title">{t["details"]}</a>'
            "</div></li>\n"
        )

    def purposes(self) -> Markup:
        return Markup("".join(self.purpose(p) for p in self.org.purposes))  # noqa: S704 - escaped

    def purpose(self, p: Any) -> str:
        t, w = self.t, self.words[p.id]
        description = f"<p>{escape(self.own(p.description))}</p>" if p.description else ""
        facts = (
            f"<dt>{t['allowed']}</dt><dd>{escape(w.basis)}</dd>"
            f"<dt>{t['kept_for']}</dt><dd>{escape(labels.retention_words(p.retention_days))}</dd>"
        )
        if p.recipients:
            names = ", ".join(r["name"] for r in p.recipients)
            facts += f"<dt>{t['shared_with']}</dt><dd>{escape(names)}</dd>"
        if p.basis == "consent" and p.refusal_consequence:
            facts += f"<dt>{t['if_no']}</dt><dd>{escape(self.own(p.refusal_consequence))}</dd>"
        return (
            f'<li id="purpose-{escape(self.org.organization.slug)}-{escape(p.key)}">'
            f'<p class="label">{escape(w.title)}</p>{description}'
            f'<dl class="facts">{facts}</dl></li>\n'
        )


def holding_value(item: HoldingView, revealed: bool) -> str:
    """One holding's value, hidden behind Show when it is sensitive (its HTMX swap, the block
    revealed_value of participants/home.html, shows it with this too)."""
    hid = item.holding.id
    if item.hidden_at_first and not revealed:
        gentle = gettext(
            "This may be about something personal. It is hidden until you choose to see it."
        )
        return (
            f'<div class="value hidden-value" id="value-{hid}">'
            f'<p class="gentle">{escape(gentle)}</p>'
            f'<form method="get" action="/holdings/{hid}/value" data-hx-get="/holdings/{hid}/value"'
            f' data-hx-target="#value-{hid}" data-hx-swap="outerHTML">'
            f'<button type="submit" class="button secondary" aria-describedby="label-{hid}">'
            f"{escape(gettext('Show'))}</button></form></div>"
        )
    hide = (
        f'<p class="hide-link"><a href="/#holding-{hid}" aria-describedby="label-{hid}">'
        f"{escape(gettext('Hide'))}</a></p>"
        if item.hidden_at_first
        else ""
    )
    return (
        f'<div class="value" id="value-{hid}" tabindex="-1">'
        f'<p class="value-text">{_text(item.holding.value or "")}</p>{hide}</div>'
    )


def revealed_value(item: HoldingView) -> Markup:
    return Markup(holding_value(item, True))  # noqa: S704 - escaped


TEMPLATE_GLOBALS = {
    "purpose_words": purpose_words,
    "section_rows": SectionRows,
    "revealed_value": revealed_value,
}
