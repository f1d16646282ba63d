from __future__ import annotations

import base64

import pytest

from listbackup import ids


def _raw_id(text: str) -> str:
    """An ID built by hand, bypassing encode's own checks."""
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("Platform", "stripe"),
        ("Platform", "google-drive"),
        ("Job", "0b7c3f0e-5a51-4c1e-9a52-35b6b8d1f2a4"),
        ("BackupFile", "job-1:contacts/2024-01-01.jsonl.gz"),
        ("Thing", "a:b:c"),
        ("Thing", ":leading-colon"),
        ("Thing", "trailing-colon:"),
        ("Account", "Zürich — 東京 🚀"),
        ("Ünïcode", "key"),
        ("K", "x"),
        ("Thing", "?&=/+ spaces and symbols"),
    ],
)
def test_encode_then_decode_round_trips(kind: str, key: str) -> None:
    global_id = ids.encode(kind, key)

    assert ids.decode(global_id) == (kind, key)
    assert ids.decode_as(kind, global_id) == key


@pytest.mark.parametrize("key", ["a", "ab", "abc", "abcd", "abcde"])
def test_encoded_ids_are_url_safe_and_unpadded(key: str) -> None:
    global_id = ids.encode("Thing", key + "\xff\xfe>>>???")

    assert "=" not in global_id
    assert "+" not in global_id
    assert "/" not in global_id


def test_encoding_is_deterministic_and_distinguishes_kinds() -> None:
    assert ids.encode("Platform", "stripe") == ids.encode("Platform", "stripe")
    assert ids.encode("Platform", "stripe") != ids.encode("Job", "stripe")
    assert ids.encode("Platform", "stripe") != ids.encode("Platform", "stripe2")


def test_platform_kind_constant_round_trips() -> None:
    assert ids.decode_as(ids.PLATFORM, ids.encode(ids.PLATFORM, "hubspot")) == "hubspot"


def test_decode_as_rejects_another_kind() -> None:
    global_id = ids.encode("Job", "42")

    assert ids.decode_as("Platform", global_id) is None
    assert ids.decode_as("job", global_id) is None  # kinds are case-sensitive
    assert ids.decode_as("Job", global_id) == "42"


def test_decode_as_rejects_garbage() -> None:
    assert ids.decode_as("Platform", "not-base64!") is None
    assert ids.decode_as("Platform", "") is None


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param("", id="empty"),
        pytest.param("not-base64!", id="not-base64"),
        pytest.param("!!!!", id="only-punctuation"),
        pytest.param("é", id="non-ascii"),
        pytest.param("A", id="impossible-length"),
        pytest.param("AAAA", id="nul-bytes"),
        pytest.param(
            base64.urlsafe_b64encode(b"Platform:\xff\xfe").decode(), id="not-utf8-after-colon"
        ),
        pytest.param(_raw_id("Platform"), id="no-colon"),
        pytest.param(_raw_id(":stripe"), id="empty-kind"),
        pytest.param(_raw_id("Platform:"), id="empty-key"),
        pytest.param(_raw_id(":"), id="only-colon"),
        pytest.param("A" * 10_000, id="far-too-long"),
        pytest.param(_raw_id("Platform:" + "x" * 400), id="too-long-but-well-formed"),
    ],
)
def test_decode_returns_none_for_garbage(garbage: str) -> None:
    assert ids.decode(garbage) is None


def test_ids_up_to_the_length_limit_decode() -> None:
    key = "k" * 300
    global_id = ids.encode("Thing", key)

    assert len(global_id) <= 512
    assert ids.decode(global_id) == ("Thing", key)


def test_one_character_past_the_length_limit_is_rejected() -> None:
    # 384 raw bytes encode to exactly 512 characters; one more byte goes past the limit.
    at_limit = ids.encode("T", "k" * 382)
    past_limit = ids.encode("T", "k" * 383)

    assert len(at_limit) == 512
    assert len(past_limit) > 512
    assert ids.decode(at_limit) == ("T", "k" * 382)
    assert ids.decode(past_limit) is None


@pytest.mark.parametrize("junk", ["!", " ", "\n", "*$#"])
def test_decode_rejects_ids_with_characters_outside_the_alphabet(junk: str) -> None:
    global_id = ids.encode("Platform", "stripe")

    assert ids.decode(global_id[:4] + junk + global_id[4:]) is None
