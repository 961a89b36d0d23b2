"""Run a task once the transaction commits: queued to django-q2 when a cluster runs, in-process when none does.

Work that must happen (the drift snapshot after a scan, a promotion or a revocation) cannot depend on a process the
user may not have started. ``task_on_commit`` is the one place that decides (ADR 010):

- ``QLRF_TASK_MODE=auto`` (default): queue when a django-q2 cluster heartbeat is visible through the broker (the
  ``Stat`` every running cluster saves every few seconds), otherwise run in-process after the commit;
- ``inline``: always run in-process after the commit; ``queue``: always queue (a worker is guaranteed to run).

Work too long for a request (a large upload's parse, ADR 019) uses ``task_in_background``: the same decision, except
that where ``auto`` would run it in-process it runs in a daemon thread, so the request answers at once. The job row
it works on is committed first, so a process that dies with the thread leaves a job that can be run again.

A rolled-back transaction runs and queues nothing (``transaction.on_commit``). An in-process failure is logged, never
raised into the request that committed (``robust=True``): the committed change stands.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
MODES = ("auto", "inline", "queue")


def cluster_running() -> bool:
    """A django-q2 cluster sharing our broker has saved a heartbeat in the last seconds (and is not stopping)."""
    from django_q.conf import Conf
    from django_q.status import Stat

    try:
        stats = Stat.get_all()
    except Exception:
        logger.warning("django-q2 broker unreachable: running tasks in-process", exc_info=True)
        return False
    return any(getattr(stat, "status", None) not in (Conf.STOPPING, Conf.STOPPED) for stat in stats)


def task_mode() -> str:
    """``inline`` or ``queue``: how a task committed now will run."""
    mode = getattr(settings, "QLRF_TASK_MODE", "auto")
    if mode == "auto":
        return "queue" if cluster_running() else "inline"
    return mode


def _run(func_path: str, args: tuple, task_name: str | None) -> None:
    if task_mode() == "queue":
        from django_q.tasks import async_task

        async_task(func_path, *args, task_name=task_name)
        return
    import_string(func_path)(*args)


def task_on_commit(func_path: str, *args, task_name: str | None = None, using: str | None = None) -> None:
    """Once the current transaction commits, run ``func_path(*args)``: queued or in-process (see module doc)."""
    transaction.on_commit(lambda: _run(func_path, args, task_name), using=using, robust=True)


def _run_in_thread(func_path: str, args: tuple, task_name: str | None) -> None:
    if task_mode() == "queue":
        _run(func_path, args, task_name)
        return
    if getattr(settings, "QLRF_TASK_MODE", "auto") == "inline":
        import_string(func_path)(*args)
        return

    def work() -> None:
        from django.db import connections

        try:
            import_string(func_path)(*args)
        except Exception:
            logger.exception("background task %s%r failed", func_path, args)
        finally:
            connections.close_all()

    threading.Thread(target=work, name=task_name or func_path, daemon=True).start()


def task_in_background(func_path: str, *args, task_name: str | None = None, using: str | None = None) -> None:
    """Once the transaction commits, run ``func_path(*args)`` outside the request: queued, or in a thread."""
    transaction.on_commit(lambda: _run_in_thread(func_path, args, task_name), using=using, robust=True)


# --- retrying a task that lost a race for the database ---------------------------------------------------------------

LOCK_ERRORS = ("database is locked", "database table is locked", "deadlock detected", "could not serialize access")
LOCK_RETRY_ATTEMPTS = 5


def is_lock_error(exc: BaseException) -> bool:
    """An OperationalError that a later try can get past: SQLite's busy lock, PostgreSQL's deadlock/serialisation."""
    from django.db import OperationalError

    return isinstance(exc, OperationalError) and any(text in str(exc) for text in LOCK_ERRORS)


def _retryable(exc: BaseException) -> bool:
    from django.db import connection

    # inside a transaction the failed statement has poisoned it: only the caller's own retry can help
    return is_lock_error(exc) and not connection.in_atomic_block


def retry_on_lock(func):
    """Decorate a task entry point: a lock error is retried with jittered backoff (tenacity), anything else raised.

    The busy timeout makes SQLite wait 20 s for a lock; a task that still meets one (the web server and the cluster
    writing at once for longer) is tried again up to ``LOCK_RETRY_ATTEMPTS`` times instead of being lost, and the
    attempt is logged. Each try runs in its own transactions, so a retry repeats the whole, idempotent, task.
    """
    import functools

    from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

    def log_retry(state) -> None:
        logger.warning(
            "task %s met a database lock (try %d of %d): %s",
            func.__qualname__,
            state.attempt_number,
            LOCK_RETRY_ATTEMPTS,
            state.outcome.exception(),
        )

    retrying = retry(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(LOCK_RETRY_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.5, max=10),
        before_sleep=log_retry,
        reraise=True,
    )(func)
    wrapper = functools.wraps(func)(retrying)
    wrapper.retries_on_lock = True
    return wrapper
