"""Provider quirks live on each platform's OAuth spec; services ask the spec."""

from __future__ import annotations

import pytest

from listbackup.integrations import REGISTRY


def test_hubspot_keeps_the_hub_id_of_its_token_response() -> None:
    spec = REGISTRY["hubspot"].oauth
    assert spec is not None

    token = {"access_token": "secret", "refresh_token": "also-secret", "hub_id": 62515}

    assert spec.extras_of(token) == {"hubId": "62515"}


def test_gohighlevel_keeps_the_location_and_company_of_its_token_response() -> None:
    spec = REGISTRY["gohighlevel"].oauth
    assert spec is not None

    token = {"access_token": "secret", "locationId": "loc-1", "companyId": "co-1", "userId": "u"}

    assert spec.extras_of(token) == {"locationId": "loc-1", "companyId": "co-1"}


def test_other_providers_keep_nothing_of_their_token_response() -> None:
    token = {"access_token": "secret", "hub_id": 1, "locationId": "loc-1", "account_id": "a"}

    kept = {slug: i.oauth.extras_of(token) for slug, i in REGISTRY.items() if i.oauth}

    assert {slug for slug, extras in kept.items() if extras} == {"hubspot", "gohighlevel"}


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        (" https://Acme-Store.myshopify.com/ ", "acme-store.myshopify.com"),
        ("acme.myshopify.com", "acme.myshopify.com"),
        ("acme.myshopify.com.evil.example", None),
        ("evil.example/?.myshopify.com", None),
        ("acme.myshopify.com\n/", None),
        ("acme.myshopify.com:8443", None),
        ("", None),
        (None, None),
    ],
)
def test_only_shopify_names_a_tenant_and_it_must_be_a_myshopify_domain(
    given: str | None, cleaned: str | None
) -> None:
    tenants = {slug: i.oauth.tenant for slug, i in REGISTRY.items() if i.oauth and i.oauth.tenant}
    assert set(tenants) == {"shopify"}

    assert tenants["shopify"].clean(given) == cleaned
    assert tenants["shopify"].name == "shop"
