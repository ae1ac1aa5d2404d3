"""The dashboard's SVG bar charts: accessible, CSP-clean, and drawn to scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from app.orgadmin.charts import Bar, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_chart_is_an_image_with_its_own_title_and_description():
    svg = _parse(
        bar_chart(
            "consents-housing",
            title="Consents for housing",
            description="Given 3, withdrawn 1, expired 0.",
            bars=[Bar("Given", 3), Bar("Withdrawn", 1), Bar("Expired", 0)],
        )
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "consents-housing-title consents-housing-desc"
    assert svg.find(f"{SVG}title").text == "Consents for housing"
    assert svg.find(f"{SVG}title").get("id") == "consents-housing-title"
    assert svg.find(f"{SVG}desc").text == "Given 3, withdrawn 1, expired 0."


def test_bars_are_to_scale_and_carry_their_label_and_number():
    svg = _parse(bar_chart("c", title="t", description="d", bars=[Bar("A", 4), Bar("B", 2)]))
    widths = [int(r.get("width")) for r in svg.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == ["A", "4", "B", "2"]  # nothing told by colour alone


def test_no_inline_style_and_labels_are_escaped():
    markup = str(
        bar_chart("c", title="<b>t</b>", description="d", bars=[Bar("<script>x</script>", 1)])
    )
    assert "style=" not in markup
    assert "<script>" not in markup and "<b>" not in markup
    _parse(markup)  # still well-formed


def test_all_zero_still_draws():
    svg = _parse(bar_chart("c", title="t", description="d", bars=[Bar("A", 0), Bar("B", 0)]))
    assert [int(r.get("width")) for r in svg.iter(f"{SVG}rect")] == [1, 1]
