"""Static limits on a GraphQL document, checked after parsing and before validation.

Validation and execution cost grow with what a document expands to, not with its size:
a few fragments that spread each other twice expand exponentially (Strawberry's depth
and alias limiters walk every expansion), and nested pages multiply (100 children, each
with 100 children...). So before anything else walks the document, :class:`QueryLimits`
counts its fields with fragments expanded, and computes the operation's cost: the most
objects its answer can hold (docs/security.md has the formula and real queries' costs).
What depends on the text alone (the parse, the field count, validation) is done once
per distinct text and kept in a :class:`DocumentCache`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from listbackup.errors import BadUserInputError
from listbackup.models.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

#: Tokens (comments too) per document; the frontend's largest query has about 100,
#: introspection about 180. Lexing is 20-30 us a token: this bounds a refusal too.
MAX_TOKENS = 5_000
#: Fields per document with fragments expanded (introspection expands to 229).
MAX_FIELDS = 2_000
#: Fields, inline fragments and spreads one inside another (fragments chain across
#: definitions, where the parser's own nesting limit does not reach).
MAX_NESTING = 64
#: graphql-core meters the pairwise comparisons of fields that share a response name and
#: aborts over a budget; its default (500 000) lets 1 000 repeats of one field hold the
#: event loop for about a second. Real queries spend next to nothing; graphql-core reads
#: this module attribute each time a validation starts, as its documentation suggests.
OVERLAP_BUDGET = 20_000
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = OVERLAP_BUDGET

#: Distinct query texts kept parsed and validated per schema, the longest text kept, and
#: the most characters kept in all (about 120 bytes of parsed document each: 16 MiB).
#: The frontend's largest query is about 100 tokens, a few hundred characters.
CACHED_DOCUMENTS = 256
MAX_CACHED_QUERY_CHARS = 8_192
MAX_CACHED_CHARS = 131_072

#: Lists of objects that take no ``first``, by (type, field): how many items they hold.
LIST_BOUNDS: Mapping[tuple[str, str], int] = {
    ("Query", "platforms"): 20,  # the catalogue: 11 platforms
    ("Platform", "dataTypes"): 20,  # 10 at most per platform
    ("Platform", "credentialFields"): 10,  # 3 at most
    # The tree's depth is not capped; agency -> client -> location is 3 levels.
    ("Account", "ancestors"): 10,
    ("User", "pendingInvitations"): MAX_PAGE_SIZE,
}
#: Any other list of objects without ``first`` counts as a full page.
DEFAULT_LIST_BOUND = MAX_PAGE_SIZE
TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str
    #: Extensions beside code and reason: what was counted, and its limit.
    counted: Mapping[str, int]

    def as_error(self) -> GraphQLError:
        cause = BadUserInputError(self.message, reason=TOO_COMPLEX)
        cause.extensions.update(self.counted)
        return GraphQLError(self.message, original_error=cause)


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    max_cost: int,
) -> Refusal | None:
    """Why the document may not run, or None. The counting is linear in its size."""
    return check_fields(document) or check_cost(
        schema, document, variables=variables, operation_name=operation_name, max_cost=max_cost
    )


def check_fields(document: DocumentNode) -> Refusal | None:
    """The half of :func:`check` that depends on the document alone."""
    fields = FieldCounter(document).total()
    if fields is None:
        return Refusal(f"The document nests more than {MAX_NESTING} levels deep.", {})
    if fields > MAX_FIELDS:
        return Refusal(
            f"The document selects {fields} fields once fragments are expanded; "
            f"at most {MAX_FIELDS} are allowed.",
            {"fields": fields, "maxFields": MAX_FIELDS},
        )
    return None


def check_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    max_cost: int,
) -> Refusal | None:
    """The half that depends on the request too (``first`` may be a variable). Run only
    on documents :func:`check_fields` accepted."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:  # no such operation: Strawberry refuses it on its own
        return None
    cost = Coster(schema, document, operation, variables or {}).cost()
    if cost > max_cost:
        return Refusal(
            f"The query may return up to {cost} objects; the limit is {max_cost}. "
            "Ask for smaller pages (first) or fewer nested lists.",
            {"cost": cost, "maxCost": max_cost},
        )
    return None


class FieldCounter:
    """Fields in every operation, fragments expanded: what the validation rules visit.
    Each fragment is counted once and reused, with how deep it nests, so that reusing it
    deeper down still trips MAX_NESTING; a spread inside its own cycle adds nothing
    (validation reports the cycle)."""

    def __init__(self, document: DocumentNode) -> None:
        self._document = document
        self._fragments = _fragments(document)
        #: Fragment name -> (fields, levels it nests below its spread).
        self._counted: dict[str, tuple[int, int]] = {}
        self._open: set[str] = set()

    def total(self) -> int | None:
        """None when the document nests deeper than MAX_NESTING."""
        try:
            return sum(
                self._count(definition.selection_set, 0)[0]
                for definition in self._document.definitions
                if isinstance(definition, OperationDefinitionNode)
            )
        except _TooDeepError:
            return None

    def _count(self, selection_set: SelectionSetNode | None, depth: int) -> tuple[int, int]:
        """The fields below ``selection_set``, and the deepest level they reach."""
        if selection_set is None:
            return 0, depth
        if depth > MAX_NESTING:
            raise _TooDeepError
        total, deepest = 0, depth
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                fields, reached = self._count(selection.selection_set, depth + 1)
                fields += 1
            elif isinstance(selection, InlineFragmentNode):
                fields, reached = self._count(selection.selection_set, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                fields, reached = self._spread(selection.name.value, depth + 1)
            else:
                continue
            total, deepest = total + fields, max(deepest, reached)
        return total, deepest

    def _spread(self, name: str, depth: int) -> tuple[int, int]:
        if name in self._counted:
            fields, height = self._counted[name]
            if depth + height > MAX_NESTING:
                raise _TooDeepError
            return fields, depth + height
        fragment = self._fragments.get(name)
        if fragment is None or name in self._open:
            return 0, depth
        self._open.add(name)
        fields, deepest = self._count(fragment.selection_set, depth)
        self._open.discard(name)
        self._counted[name] = (fields, deepest - depth)
        return fields, deepest


class _TooDeepError(Exception):
    pass


class Coster:
    """The most objects an operation's answer can hold.

    A field of object type costs ``n * (1 + the cost of its selection)``, where n is 1
    for a single object, ``first`` (clamped to 0..100; its default when not given) for
    the items of a page, and the bound in LIST_BOUNDS for other lists. Scalars, enums
    and introspection cost nothing. Run only on documents FieldCounter accepted, so
    expanding fragments here is bounded by MAX_FIELDS.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = _fragments(document)
        self._operation = operation
        self._variables = variables

    def cost(self) -> int:
        root = self._schema.get_root_type(self._operation.operation)
        return self._selections(self._operation.selection_set, root, None, frozenset())

    def _selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        page_size: int | None,
        spreading: frozenset[str],
    ) -> int:
        """``page_size`` is the ``first`` of the page this selection set is on: it bounds
        the page's list of items (``nodes``)."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page_size, spreading)
            elif isinstance(selection, InlineFragmentNode):
                on = self._condition(selection.type_condition, parent)
                total += self._selections(selection.selection_set, on, page_size, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                on = self._condition(fragment.type_condition, parent)
                total += self._selections(fragment.selection_set, on, page_size, spreading | {name})
        return total

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        page_size: int | None,
        spreading: frozenset[str],
    ) -> int:
        name = node.name.value
        if node.selection_set is None or name.startswith("__"):
            return 0
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        field = parent.fields.get(name)
        if field is None:  # validation reports it
            return 0
        items = 1
        if is_list_type(get_nullable_type(field.type)):
            items = (
                page_size
                if page_size is not None
                else LIST_BOUNDS.get((parent.name, name), DEFAULT_LIST_BOUND)
            )
        first = self._first(node, field.args.get("first"))
        inner = get_named_type(field.type)
        return items * (1 + self._selections(node.selection_set, inner, first, spreading))

    def _first(self, node: FieldNode, argument: GraphQLArgument | None) -> int | None:
        """The page size the field will be asked for, as the resolver will see it."""
        if argument is None:
            return None
        value: object = None
        for given in node.arguments or ():
            if given.name.value != "first":
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                value = self._variable(given.value.name.value)
        if not isinstance(value, int) or isinstance(value, bool):
            # Not given, null or of the wrong type (which fails later): the default.
            value = argument.default_value
        if not isinstance(value, int) or isinstance(value, bool):
            value = DEFAULT_PAGE_SIZE
        # Out of range fails when the field resolves; the cost counts what could run.
        return min(max(value, 0), MAX_PAGE_SIZE)

    def _variable(self, name: str) -> object:
        if name in self._variables:
            return self._variables[name]
        for definition in self._operation.variable_definitions or ():
            if definition.variable.name.value == name and isinstance(
                definition.default_value, IntValueNode
            ):
                return int(definition.default_value.value)
        return None

    def _condition(
        self, condition: NamedTypeNode | None, parent: GraphQLNamedType | None
    ) -> GraphQLNamedType | None:
        return self._schema.get_type(condition.name.value) if condition else parent


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


@dataclass(slots=True)
class _Checked:
    """A parsed document and what its checks found that holds for every request."""

    document: DocumentNode
    fields_refusal: Refusal | None
    #: The rules ``errors`` were found with; None until validated.
    rules: tuple[type[ASTValidationRule], ...] | None = None
    errors: tuple[GraphQLError, ...] = ()


class DocumentCache:
    """Parsed documents by query text, with their field count and validation (LRU).

    A client sends the same few texts over and over; parsing and validating one costs
    far more than answering a small query. Only texts up to ``max_chars`` are kept, and
    at most ``max_total_chars`` of them (a parsed document holds about 120 bytes per
    character), so unique texts cannot grow memory, only evict each other."""

    def __init__(
        self,
        *,
        max_entries: int = CACHED_DOCUMENTS,
        max_chars: int = MAX_CACHED_QUERY_CHARS,
        max_total_chars: int = MAX_CACHED_CHARS,
    ) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.max_total_chars = max_total_chars
        self._entries: OrderedDict[str, _Checked] = OrderedDict()
        self._chars = 0

    def document(self, query: str | None) -> DocumentNode | None:
        if query is None or (entry := self._entries.get(query)) is None:
            return None
        self._entries.move_to_end(query)
        return entry.document

    def checked(self, query: str | None, document: DocumentNode) -> _Checked:
        """The entry of ``document``, parsed from ``query``: cached, made, or made and
        kept."""
        entry = self._entries.get(query) if query is not None else None
        if entry is not None and entry.document is document:
            return entry
        entry = _Checked(document, check_fields(document))
        if query is not None and len(query) <= self.max_chars:
            self._keep(query, entry)
        return entry

    def _keep(self, query: str, entry: _Checked) -> None:
        replaced = self._entries.pop(query, None)
        if replaced is not None:
            self._chars -= len(query)
        self._entries[query] = entry
        self._chars += len(query)
        while len(self._entries) > self.max_entries or self._chars > self.max_total_chars:
            evicted, _ = self._entries.popitem(last=False)
            self._chars -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)


class QueryLimits(SchemaExtension):
    """Every check a document goes through before it runs: the token limit while it is
    parsed, then the field and cost limits, then validation (``rules`` on top of
    Strawberry's). The field and cost limits run before validation, whose work they
    bound; a refusal stands in for the validation errors, so validation is skipped.

    The parse, the field count and validation depend on the text alone and are done
    once per distinct text (``cache``, shared by every operation of a schema); the cost
    depends on the variables too and is computed for every operation."""

    def __init__(
        self,
        *,
        max_cost: int,
        max_tokens: int = MAX_TOKENS,
        rules: Sequence[type[ASTValidationRule]] = (),
        cache: DocumentCache,
    ) -> None:
        self.max_cost = max_cost
        self.max_tokens = max_tokens
        self.rules = tuple(rules)
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        # Strawberry builds each hook's context manager for every operation: two hooks
        # (no on_operation) are cheaper than three.
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        if context.graphql_document is None:
            # A miss leaves it to Strawberry, which parses and reports syntax errors.
            context.graphql_document = self.cache.document(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            entry = self.cache.checked(context.query, document)
            # The graphql-core schema, as Strawberry's own validation reads it.
            schema = context.schema._schema
            # Not every transport checks that variables are an object; coercion reports it.
            variables = context.variables if isinstance(context.variables, dict) else None
            refusal = entry.fields_refusal or check_cost(
                schema,
                document,
                variables=variables,
                operation_name=context.operation_name,
                max_cost=self.max_cost,
            )
            if refusal is not None:
                context.pre_execution_errors = [refusal.as_error()]
            else:
                rules = context.validation_rules + self.rules
                if entry.rules != rules:
                    entry.errors = tuple(validate_document(schema, document, rules))
                    entry.rules = rules
                # Set, even when empty: Strawberry then skips its own validation.
                context.pre_execution_errors = list(entry.errors)
        yield
