"""Jobs by id, an account's or a source's jobs, a job's log and its files."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiodataloader import DataLoader

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.loaders.pages import PageLoader
from listbackup.models.jobs import BackupFile, Job, JobLog, JobStatus
from listbackup.store import job_logs, jobs
from listbackup.store.backup_files import BackupFileStore
from listbackup.store.job_logs import JobLogStore
from listbackup.store.jobs import JobStore

#: (account or source id, status or None for every status).
OwnerStatus = tuple[str, JobStatus | None]


class JobByIdLoader(BatchedLoader[str, Job]):
    def __init__(self, batcher: TableBatcher, store: JobStore) -> None:
        super().__init__(batcher, store.table, lambda k: {"id": k}, jobs.to_model)

    def prime_one(self, job: Job) -> None:
        self.prime(job.id, job)


def by_account(store: JobStore, by_id: JobByIdLoader) -> PageLoader[OwnerStatus, Job]:
    """Pages of an account's jobs, newest first."""
    return PageLoader(store.list_by_account, jobs.ACCOUNT_INDEX_KEYS, by_id.prime_one)


def by_source(store: JobStore, by_id: JobByIdLoader) -> PageLoader[OwnerStatus, Job]:
    """Pages of a source's jobs, newest first."""
    return PageLoader(store.list_by_source, jobs.SOURCE_INDEX_KEYS, by_id.prime_one)


def logs(store: JobLogStore) -> PageLoader[str, JobLog]:
    """Pages of a job's log, oldest line first."""
    return PageLoader(store.page, job_logs.KEYS, lambda line: None)


class FilesByJobLoader(DataLoader[str, list[BackupFile]]):
    def __init__(self, store: BackupFileStore) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[BackupFile]]:
        return list(await asyncio.gather(*(self._store.of_job(k) for k in keys)))
