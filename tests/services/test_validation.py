"""Shared input checks."""

from __future__ import annotations

from listbackup.services import validation


def test_names_keep_letters_of_every_script_and_emoji_sequences() -> None:
    for name in ("Zoë & Søren", "東京支店", "مكتب دبي", "👩\u200d💻 Team", "  Tabs\tand\nlines "):
        assert validation.text(name, "name") == " ".join(name.split())
