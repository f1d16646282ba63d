"""Backup sources: what to back up from one connection, when, and for how long.

A source belongs to its connection's account. Anyone who sees the account reads its
sources; MANAGE_INTEGRATIONS creates, changes, pauses, resumes, runs and deletes them.
An invisible source answers exactly like a missing one. The number of sources of an
account is counted on the account in the same transaction as each create, so concurrent
creates cannot pass its limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from listbackup.deps import Deps
from listbackup.errors import BadUserInputError, ConflictError, NotFoundError
from listbackup.integrations.base import Integration
from listbackup.models.accounts import Account, Permission
from listbackup.models.connections import Connection, ConnectionStatus
from listbackup.models.jobs import Job, JobTrigger, JobType
from listbackup.models.pages import Page
from listbackup.models.platforms import Frequency
from listbackup.models.schedules import Schedule
from listbackup.models.sources import Source, SourceStatus
from listbackup.models.users import Principal
from listbackup.services import access, connections, jobs, schedules, validation
from listbackup.store.pages import check_first
from listbackup.store.sources import scheduling

EVENTS = "listbackup.sources"
NO_SOURCE = "No source with that id."
MAX_RETENTION_DAYS = 3650
_BROKEN = (ConnectionStatus.EXPIRED, ConnectionStatus.ERROR, ConnectionStatus.REVOKED)


@dataclass(frozen=True, slots=True)
class ScheduleChoice:
    """What the user asked for: a preset or a cron, and maybe a zone."""

    frequency: Frequency | None = None
    cron: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """Only what is given changes; ``clear_schedule`` removes the schedule."""

    name: str | None = None
    data_types: Sequence[str] | None = None
    schedule: ScheduleChoice | None = None
    clear_schedule: bool = False
    retention_days: int | None = None


@dataclass(frozen=True, slots=True)
class Health:
    status: SourceStatus
    reason: str | None


# ---------------------------------------------------------------- reading


async def get(deps: Deps, *, principal: Principal, source_id: str) -> Source:
    source = await deps.loaders.source.load(source_id) if source_id else None
    return await access.visible(deps, principal=principal, item=source, missing=NO_SOURCE)


async def manageable(deps: Deps, *, principal: Principal, source_id: str) -> Source:
    source = await deps.loaders.source.load(source_id) if source_id else None
    return await access.managed(
        deps,
        principal=principal,
        item=source,
        missing=NO_SOURCE,
        permission=Permission.MANAGE_INTEGRATIONS,
    )


async def health(deps: Deps, source: Source) -> Health:
    """PAUSED as the user set it; ERROR while its connection needs reconnecting (or a
    job found the credentials refused); else ACTIVE."""
    if source.paused:
        return Health(SourceStatus.PAUSED, None)
    connection = await deps.loaders.connection.load(source.connection_id)
    if connection is not None and connection.status in _BROKEN:
        reason = connection.last_error or "The connection needs to be reconnected."
        return Health(SourceStatus.ERROR, reason)
    if source.stored_status is SourceStatus.ERROR:
        return Health(SourceStatus.ERROR, source.status_reason)
    return Health(SourceStatus.ACTIVE, None)


async def list_for_account(
    deps: Deps,
    *,
    principal: Principal,
    account: Account,
    first: int,
    after: str | None,
    status: SourceStatus | None,
) -> Page[Source]:
    """Oldest first; with ``status``, the effective one (ERROR includes sources whose
    connection needs reconnecting), filtered before the page is cut."""
    await access.visible_account(deps, principal=principal, account_id=account.id)
    if status is None:
        return await deps.loaders.sources_by_account.load((account.id, first, after))
    check_first(first)
    every = await deps.store.sources.all_of_account(account.id)
    matching = [s for s in every if (await health(deps, s)).status is status]
    return _offset_page(matching, first, after)


async def list_for_connection(
    deps: Deps, *, principal: Principal, connection: Connection, first: int, after: str | None
) -> Page[Source]:
    await access.visible_account(deps, principal=principal, account_id=connection.account_id)
    check_first(first)
    every = await deps.store.sources.all_of_account(connection.account_id)
    return _offset_page([s for s in every if s.connection_id == connection.id], first, after)


def _offset_page(items: Sequence[Source], first: int, after: str | None) -> Page[Source]:
    """A page of an in-memory list, by the id of the last item read."""
    start = 0
    if after is not None:
        position = next((i for i, s in enumerate(items) if s.id == after), None)
        if position is None:
            raise BadUserInputError("after is not a cursor from this list.", field="after")
        start = position + 1
    window = list(items[start : start + first])
    more = start + first < len(items)
    return Page(window, window[-1].id if more and window else None)


# ---------------------------------------------------------------- changing


async def create(
    deps: Deps,
    *,
    principal: Principal,
    connection_id: str,
    name: str,
    data_types: Sequence[str] | None,
    schedule: ScheduleChoice | None,
    retention_days: int | None,
) -> Source:
    connection = await connections.manageable(
        deps, principal=principal, connection_id=connection_id
    )
    account = await access.require(
        deps,
        principal=principal,
        account_id=connection.account_id,
        permission=Permission.MANAGE_INTEGRATIONS,
    )
    integration = deps.platforms.integration(connection.platform)
    chosen = choose_data_types(integration, data_types)
    source_id = str(uuid.uuid4())
    source = Source(
        id=source_id,
        account_id=account.id,
        connection_id=connection.id,
        platform=connection.platform,
        name=validation.text(name, "name"),
        data_types=chosen,
        retention_days=_retention(retention_days, account, integration, chosen),
        created_at=deps.now(),
        created_by=principal.user_id,
    )
    if schedule is not None:
        source = _scheduled(deps, source, schedule, account)
    if account.source_count >= account.settings.max_sources:
        raise _too_many(account)
    try:
        await deps.store.transact(
            [deps.store.sources.put_new(source), deps.store.accounts.add_source(account)]
        )
    except ConflictError:
        # Another create (or a change of limit) got in first.
        fresh = await deps.store.accounts.get_many([account.id])
        if fresh[0] is not None and fresh[0].source_count >= fresh[0].settings.max_sources:
            raise _too_many(fresh[0]) from None
        raise
    deps.loaders.source.prime(source.id, source)
    await _event(deps, source, "Source Created")
    return source


def _too_many(account: Account) -> ConflictError:
    return ConflictError(
        f"This account already has its maximum of {account.settings.max_sources} sources.",
        reason="MAX_SOURCES_REACHED",
    )


async def update(deps: Deps, *, principal: Principal, source_id: str, changes: Changes) -> Source:
    source = await manageable(deps, principal=principal, source_id=source_id)
    integration = deps.platforms.integration(source.platform)
    fields: dict[str, Any] = {}
    updated = source
    if changes.name is not None:
        updated = replace(updated, name=validation.text(changes.name, "name"))
        fields["name"] = updated.name
    if changes.data_types is not None:
        updated = replace(updated, data_types=choose_data_types(integration, changes.data_types))
        fields["dataTypes"] = updated.data_types
    if changes.retention_days is not None:
        updated = replace(updated, retention_days=_checked_retention(changes.retention_days))
        fields["retentionDays"] = updated.retention_days
    if changes.schedule is not None or changes.clear_schedule:
        account = await _account(deps, source.account_id)
        updated = (
            _scheduled(deps, updated, changes.schedule, account)
            if changes.schedule is not None
            else replace(updated, schedule=None, next_run_at=None)
        )
        fields |= {"schedule": updated.schedule, **scheduling(updated)}
    if not fields:
        return source
    saved = await deps.store.sources.update(source.id, fields)
    deps.loaders.source.clear(saved.id).prime(saved.id, saved)
    await _event(deps, saved, "Source Updated")
    return saved


async def pause(deps: Deps, *, principal: Principal, source_id: str) -> Source:
    """No more scheduled runs until resumed; a job already running finishes."""
    source = await manageable(deps, principal=principal, source_id=source_id)
    if source.paused:
        return source
    paused = replace(source, stored_status=SourceStatus.PAUSED)
    return await _save_status(deps, paused, "Source Paused")


async def resume(deps: Deps, *, principal: Principal, source_id: str) -> Source:
    """Scheduled again, from now: runs missed while paused are not made up."""
    source = await manageable(deps, principal=principal, source_id=source_id)
    if not source.paused:
        return source
    resumed = replace(source, stored_status=SourceStatus.ACTIVE, status_reason=None)
    if resumed.schedule is not None:
        resumed = replace(resumed, next_run_at=schedules.next_run(resumed.schedule, deps.now()))
    return await _save_status(deps, resumed, "Source Resumed")


async def _save_status(deps: Deps, source: Source, event: str) -> Source:
    saved = await deps.store.sources.update(
        source.id,
        {
            "status": source.stored_status,
            "statusReason": source.status_reason,
            **scheduling(source),
        },
    )
    deps.loaders.source.clear(saved.id).prime(saved.id, saved)
    await _event(deps, saved, event)
    return saved


async def run(deps: Deps, *, principal: Principal, source_id: str, job_type: JobType) -> Job:
    """A manual run: CONFLICT (JOB_ALREADY_ACTIVE, with the active job's id) while the
    source has a job queued or running."""
    source = await manageable(deps, principal=principal, source_id=source_id)
    if source.active_job_id is not None:
        raise jobs.already_active(source.active_job_id)
    try:
        return await jobs.enqueue(deps, source, job_type=job_type, trigger=JobTrigger.MANUAL)
    except ConflictError:
        fresh = await deps.store.sources.get(source.id)
        if fresh is not None and fresh.active_job_id:
            raise jobs.already_active(fresh.active_job_id) from None
        raise


async def delete(deps: Deps, *, principal: Principal, source_id: str) -> Source:
    """Removes the source and its schedule, cancelling its queued or running job. Its
    backups stay until their retention runs out (a deletion hold); the retention sweep
    then removes them."""
    source = await manageable(deps, principal=principal, source_id=source_id)
    if source.active_job_id is not None:
        await jobs.stop(deps, source.active_job_id)
        source = await deps.store.sources.get(source.id) or source
    await deps.store.transact(
        [deps.store.sources.delete(source), deps.store.accounts.remove_source(source.account_id)]
    )
    deps.loaders.source.clear(source.id)
    await _event(deps, source, "Source Deleted")
    return source


# ---------------------------------------------------------------- rules


def choose_data_types(integration: Integration, given: Sequence[str] | None) -> tuple[str, ...]:
    """The data types to back up, dependencies included, in the platform's order (which
    lists what others depend on first). None or empty: all of them."""
    declared = {d.key: d for d in integration.platform.data_types}
    if not given:
        return tuple(declared)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise BadUserInputError(
            f"{integration.platform.name} has no data types {', '.join(unknown)}.",
            reason="UNKNOWN_DATA_TYPES",
            field="dataTypes",
        )
    wanted: set[str] = set()
    pending = list(given)
    while pending:
        key = pending.pop()
        if key not in wanted:
            wanted.add(key)
            pending.extend(declared[key].depends_on)
    return _in_dependency_order(integration, wanted)


def _in_dependency_order(integration: Integration, wanted: set[str]) -> tuple[str, ...]:
    declared = {d.key: d for d in integration.platform.data_types}
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in ordered or key in visiting:
            return
        visiting.add(key)
        for dependency in declared[key].depends_on:
            visit(dependency)
        ordered.append(key)

    for data_type in integration.platform.data_types:
        if data_type.key in wanted:
            visit(data_type.key)
    return tuple(ordered)


def _checked_retention(days: int) -> int:
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise BadUserInputError(
            f"retentionDays must be between 1 and {MAX_RETENTION_DAYS}.", field="retentionDays"
        )
    return days


def _retention(
    given: int | None, account: Account, integration: Integration, chosen: Sequence[str]
) -> int:
    """Given, else the account's default, else the longest default of the data types."""
    if given is not None:
        return _checked_retention(given)
    if account.settings.default_retention_days is not None:
        return account.settings.default_retention_days
    defaults = {d.key: d.default_retention_days for d in integration.platform.data_types}
    return max(defaults[key] for key in chosen)


def _scheduled(deps: Deps, source: Source, choice: ScheduleChoice, account: Account) -> Source:
    schedule: Schedule = schedules.resolve(
        frequency=choice.frequency,
        cron=choice.cron,
        timezone=choice.timezone,
        source_id=source.id,
        default_timezone=account.settings.timezone,
        min_interval_minutes=account.settings.min_schedule_minutes,
    )
    return replace(source, schedule=schedule, next_run_at=schedules.next_run(schedule, deps.now()))


async def _account(deps: Deps, account_id: str) -> Account:
    account = await deps.loaders.account.load(account_id)
    if account is None:
        raise NotFoundError(access.NO_ACCOUNT)
    return account


async def _event(deps: Deps, source: Source, detail_type: str) -> None:
    await deps.events.publish(
        EVENTS,
        detail_type,
        {
            "sourceId": source.id,
            "accountId": source.account_id,
            "connectionId": source.connection_id,
            "platform": source.platform,
            "status": source.stored_status.value,
            "at": deps.now(),
        },
    )
