"""How user-typed text is shown in our emails (pure functions)."""

from __future__ import annotations

import pytest

from listbackup.services.emails import MAX_QUOTED, quoted


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Harbour Bakery", "“Harbour Bakery”"),
        ("Line one\nLine two\r\n\tthree", "“Line one Line two three”"),
        ("abc\u202edef\u200b\u2028ghi\x00", "“abc def ghi”"),
        ('He said "click" «now» “here”', "“He said 'click' 'now' 'here'”"),
        ("see https://evil.example/x", "“see https[:]//evil[.]example/x”"),
        ("www.shop.co.uk or bob@mail.example", "“www[.]shop[.]co[.]uk or bob@mail[.]example”"),
        ("Acme Inc. costs 10.50 v2.1", "“Acme Inc. costs 10.50 v2.1”"),
    ],
)
def test_quoted_text_is_one_inert_line_in_our_quotes(typed: str, shown: str) -> None:
    assert quoted(typed) == shown


def test_quoted_text_is_capped() -> None:
    shown = quoted("x" * 500)

    assert shown == "“" + "x" * (MAX_QUOTED - 1) + "…”"
