"""Static limits: fields with fragments expanded, and the cost of real and hostile queries.

The costs asserted here are the ones docs/security.md quotes.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, get_introspection_query, parse

from listbackup.config import DEFAULT_MAX_QUERY_COST
from listbackup.integrations import REGISTRY
from listbackup.schema import build_schema
from listbackup.schema.limits import (
    LIST_BOUNDS,
    MAX_FIELDS,
    MAX_NESTING,
    MAX_TOKENS,
    DocumentCache,
    Refusal,
    check,
)

SCHEMA = build_schema()._schema

#: The tenancy benchmark's deliberately heavy tree query (bench/nested_reads.py), which
#: raises its own limit; no frontend screen asks for this much.
BENCH_TREE = """
query Tree {
  viewer { memberships(first: 10) { nodes { role account {
    id name
    children(first: 10) { nodes { id name viewerRole
      members(first: 10) { nodes { role user { name } } }
      children(first: 100) { nodes { id name
        members(first: 10) { nodes { role user { name } } } } }
    } }
    descendants(first: 100) { nodes { id name level } }
  } } } }
}
"""
CATALOGUE = """{ platforms { slug name authType
  credentialFields { key label secret required } dataTypes { key name defaultFrequency } } }"""
VIEWER = """{ viewer { id name email
  currentAccount { id name ancestors { id name } viewerPermissions }
  memberships { nodes { role account { id name } } pageInfo { hasNextPage endCursor } }
  pendingInvitations { id account { name } } } }"""
MEMBERS = """query($id: ID!) { account(id: $id) {
  members(first: 50) { nodes { role permissions inherited user { id name email } }
                       pageInfo { hasNextPage endCursor } } } }"""
#: An agency's dashboard: its clients, a page of each one's members and connections.
CLIENTS = """query($id: ID!) { account(id: $id) { id name
  children(first: 50) { nodes { id name viewerRole
    members(first: 10) { nodes { role user { name } } }
    connections(first: 10) { nodes { id name status platform { name } } } }
    pageInfo { hasNextPage endCursor } } } }"""


def fan_out(levels: int, aliases: int = 5) -> str:
    """The review's attack: pages of children, back up through parent, down again."""
    inner = "children(first: 100) { nodes { id } }"
    for _ in range(levels - 1):
        inner = f"children(first: 100) {{ nodes {{ parent {{ {inner} }} }} }}"
    return "{ " + " ".join(f'a{i}: account(id: "x") {{ {inner} }}' for i in range(aliases)) + " }"


def refusal(
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    max_cost: int = DEFAULT_MAX_QUERY_COST,
    operation: str | None = None,
) -> Refusal | None:
    return check(
        SCHEMA, parse(query), variables=variables, operation_name=operation, max_cost=max_cost
    )


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    """The cost, read from the refusal a limit of 0 provokes."""
    refused = refusal(query, variables, max_cost=0)
    if refused is None:
        return 0
    return refused.counted["cost"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [(CATALOGUE, 620), (VIEWER, 314), (MEMBERS, 103), (CLIENTS, 2_153)],
    ids=["catalogue", "viewer", "members", "clients"],
)
def test_real_frontend_queries_pass_with_room_and_cost_what_the_docs_say(
    query: str, expected: int
) -> None:
    assert cost(query) == expected
    assert expected * 10 < DEFAULT_MAX_QUERY_COST


def test_the_benchmarks_tree_query_needs_its_own_limit() -> None:
    assert cost(BENCH_TREE) == 223_342
    assert refusal(BENCH_TREE) is not None
    assert refusal(BENCH_TREE, max_cost=250_000) is None


@pytest.mark.parametrize(("levels", "expected"), [(2, 51_510), (3, 5_151_510)])
def test_fan_out_through_parent_and_children_is_refused_with_its_cost(
    levels: int, expected: int
) -> None:
    # levels=2 is the review's measured query: 3.3 MB in 14 s.
    refused = refusal(fan_out(levels=levels))

    assert refused is not None
    assert refused.counted == {"cost": expected, "maxCost": DEFAULT_MAX_QUERY_COST}
    error = refused.as_error()
    assert error.original_error is not None
    assert error.original_error.as_extensions() == {  # type: ignore[attr-defined]
        "code": "BAD_USER_INPUT",
        "reason": "QUERY_TOO_COMPLEX",
        "cost": expected,
        "maxCost": DEFAULT_MAX_QUERY_COST,
    }


def test_a_page_costs_its_items_the_page_and_its_page_info() -> None:
    page = '{ account(id: "x") { children(first: 7) { nodes { id } pageInfo { hasNextPage } } } }'

    # account 1 + page 1 + 7 accounts + pageInfo 1; scalars cost nothing.
    assert cost(page) == 10


@pytest.mark.parametrize(
    ("argument", "variables", "items"),
    [
        ("", {}, 50),  # the argument's default
        ("(first: 3)", {}, 3),
        ("(first: null)", {}, 50),  # the resolver reads null as the default
        ("(first: $n)", {"n": 9}, 9),
        ("(first: $n)", {}, 4),  # the variable's default
        ("(first: $n)", {"n": None}, 50),
        ("(first: $n)", {"n": "many"}, 50),  # refused by coercion later; counted as default
        ("(first: $n)", {"n": True}, 50),
        ("(first: 1000)", {}, 100),  # refused when resolved; counted as what could run
        ("(first: -5)", {}, 0),
    ],
)
def test_first_is_read_from_literals_variables_and_defaults(
    argument: str, variables: dict[str, Any], items: int
) -> None:
    query = (
        f'query($n: Int = 4) {{ account(id: "x") {{ children{argument} {{ nodes {{ id }} }} }} }}'
    )

    assert cost(query, variables) == 2 + items


def test_fragments_and_inline_fragments_cost_what_they_expand_to() -> None:
    inline = '{ account(id: "x") { children(first: 20) { nodes { id parent { name } } } } }'
    spread = """{ account(id: "x") { ...Kids } }
    fragment Kids on Account { children(first: 20) { ...Nodes } }
    fragment Nodes on AccountPage { nodes { id parent { name } } }"""
    through_node = """{ node(id: "x") { ... on Account { children(first: 20) {
      nodes { id parent { name } } } } } }"""

    assert cost(inline) == cost(spread) == cost(through_node) == 1 + 1 + 20 * 2


def test_unpaged_lists_count_as_their_bound() -> None:
    query = '{ account(id: "x") { ancestors { id } } }'

    assert cost(query) == 1 + LIST_BOUNDS["Account", "ancestors"]


def test_introspection_costs_nothing_and_fits_the_field_limit() -> None:
    introspection = get_introspection_query(descriptions=True, input_value_deprecation=True)

    assert refusal(introspection, max_cost=0) is None


def test_fragment_bomb_is_refused_by_its_expanded_size() -> None:
    # 30 fragments spreading the next one twice: 2**30 fields, in 300 tokens.
    fragments = " ".join(f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    query = "{ viewer { ...F0 } } " + fragments + " fragment F30 on User { id }"

    refused = refusal(query)

    assert refused is not None
    assert refused.counted == {"fields": 2**30 + 1, "maxFields": MAX_FIELDS}


def test_fields_are_counted_in_every_operation_not_only_the_one_run() -> None:
    repeated = " ".join(["__typename"] * MAX_FIELDS)
    query = f"query A {{ __typename }} query B {{ {repeated} }}"

    refused = refusal(query, operation="A")

    assert refused is not None
    assert refused.counted["fields"] == MAX_FIELDS + 1


def test_fragment_cycles_end_the_count() -> None:
    query = """{ viewer { ...A } }
    fragment A on User { id ...B } fragment B on User { name ...A }"""

    assert refusal(query, max_cost=1) is None  # viewer alone: validation reports the cycle


def test_chains_of_fragments_deeper_than_the_nesting_limit_are_refused() -> None:
    chain = " ".join(f"fragment F{i} on User {{ ...F{i + 1} }}" for i in range(MAX_NESTING + 1))
    query = "{ viewer { ...F0 } } " + chain + f" fragment F{MAX_NESTING + 1} on User {{ id }}"

    refused = refusal(query)

    assert refused is not None
    assert f"more than {MAX_NESTING} levels" in refused.message


def test_a_fragment_counted_shallow_still_counts_its_depth_when_reused_deeper() -> None:
    def chain(prefix: str, length: int, last: str) -> str:
        links = [f"fragment {prefix}{i} on User {{ ...{prefix}{i + 1} }}" for i in range(length)]
        return " ".join([*links, f"fragment {prefix}{length} on User {{ {last} }}"])

    # C nests 40 levels and is counted first; G reaches it again 40 levels down.
    query = "{ viewer { ...C0 ...G0 } } " + chain("C", 40, "id") + " " + chain("G", 40, "...C0")

    refused = refusal(query)

    assert refused is not None
    assert f"more than {MAX_NESTING} levels" in refused.message


def test_every_list_bound_names_an_unpaged_list_of_objects() -> None:
    for type_name, field_name in LIST_BOUNDS:
        field = SCHEMA.type_map[type_name].fields[field_name]  # type: ignore[attr-defined]
        nullable = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type

        assert isinstance(nullable, GraphQLList), (type_name, field_name)
        assert "first" not in field.args, (type_name, field_name)


def test_the_catalogue_fits_its_list_bounds() -> None:
    platforms = [integration.platform for integration in REGISTRY.values()]

    assert len(platforms) <= LIST_BOUNDS["Query", "platforms"]
    assert max(len(p.data_types) for p in platforms) <= LIST_BOUNDS["Platform", "dataTypes"]
    assert (
        max(len(p.credential_fields) for p in platforms)
        <= LIST_BOUNDS["Platform", "credentialFields"]
    )


# --- the document cache: parse, field count and validation once per distinct text -----


def test_a_text_is_parsed_once_and_its_document_reused() -> None:
    cache = DocumentCache()
    document = parse(VIEWER)

    entry = cache.checked(VIEWER, document)

    assert cache.document(VIEWER) is document
    assert cache.checked(VIEWER, document) is entry
    assert cache.document("{ viewer { id } }") is None


def test_the_cache_holds_so_many_texts_and_characters_and_no_long_text() -> None:
    cache = DocumentCache(max_entries=3, max_chars=40, max_total_chars=100)
    texts = [f"{{ viewer {{ id{' ' * n} }} }}" for n in range(5)]
    for text in texts:
        cache.checked(text, parse(text))
    long = "{ viewer { id " + " " * 40 + "} }"
    cache.checked(long, parse(long))

    assert len(cache) == 3
    assert [cache.document(t) is not None for t in texts] == [False, False, True, True, True]
    assert cache.document(long) is None

    wide = DocumentCache(max_entries=10, max_chars=40, max_total_chars=50)
    for text in texts:
        wide.checked(text, parse(text))
    assert len(wide) == 2  # 16 to 20 characters each: the last two fit in 50


async def _run(schema: Any, query: str, variables: dict[str, Any] | None = None) -> set[str]:
    """The reasons (or codes) of the errors an operation gets before any resolver runs."""
    result = await schema.execute(query, variable_values=variables)
    return {e.extensions.get("reason") or e.extensions["code"] for e in result.errors or []}


async def test_a_cached_document_is_priced_with_each_requests_variables() -> None:
    schema = build_schema(max_query_cost=1_000)
    # n * n accounts; ``bogus`` fails validation, which only runs when the cost passes.
    query = """query($n: Int) { viewer { bogus memberships(first: $n) { nodes { account {
      children(first: $n) { nodes { id } } } } } } }"""

    assert await _run(schema, query, {"n": 100}) == {"QUERY_TOO_COMPLEX"}
    assert await _run(schema, query, {"n": 10}) == {"GRAPHQL_VALIDATION_FAILED"}
    assert await _run(schema, query, {"n": 100}) == {"QUERY_TOO_COMPLEX"}


async def test_cached_validation_errors_and_refusals_come_back_every_time() -> None:
    schema = build_schema()
    unknown = "{ viewer { nope } }"
    deep = "{ viewer { memberships { nodes { account { " + "parent { " * 9 + "id" + " }" * 13 + " }"
    aliased = "{ " + " ".join(f"a{i}: __typename" for i in range(60)) + " }"
    introspection = "{ __schema { types { name } } }"
    bomb = "{ viewer { ...F0 } } " + " ".join(
        f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30)
    )
    bomb += " fragment F30 on User { id }"

    for _ in range(2):
        assert await _run(schema, unknown) == {"GRAPHQL_VALIDATION_FAILED"}
        assert await _run(schema, deep) == {"GRAPHQL_VALIDATION_FAILED"}
        assert await _run(schema, aliased) == {"GRAPHQL_VALIDATION_FAILED"}
        assert await _run(schema, introspection) == {"GRAPHQL_VALIDATION_FAILED"}
        assert await _run(schema, bomb) == {"QUERY_TOO_COMPLEX"}
        assert await _run(schema, "{ viewer {") == {"GRAPHQL_PARSE_FAILED"}
        assert await _run(schema, "{ __typename }") == set()


async def test_the_token_limit_holds_whatever_is_cached() -> None:
    schema = build_schema()
    flood = "{" + " __typename" * MAX_TOKENS + " }"

    for _ in range(2):
        assert await _run(schema, flood) == {"GRAPHQL_PARSE_FAILED"}


async def test_introspection_is_validated_with_the_schemas_own_rules() -> None:
    open_schema = build_schema(introspection=True)
    closed = build_schema()
    query = "{ __schema { queryType { name } } }"

    assert await _run(closed, query) == {"GRAPHQL_VALIDATION_FAILED"}
    assert await _run(open_schema, query) == set()
    assert await _run(closed, query) == {"GRAPHQL_VALIDATION_FAILED"}
