"""Scheduled actions retried inside the cron worker after a transient database conflict."""

import functools
import logging
import random
import time

from odoo.service.model import MAX_TRIES_ON_CONCURRENCY_FAILURE, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

_logger = logging.getLogger(__name__)


def retry_on_conflict(method):
    """Decorator of a scheduled action's batch method: when the batch loses a race with another
    transaction (serialisation failure, deadlock, lock not available — e.g. the payment
    behaviour refresh on the other cron worker wrote the same customers), the batch's work is
    rolled back whole (the scheduler committed everything before the call) and done again, a
    few times, as Odoo does for RPC calls. Outside a cron worker (``cron_id`` not in the
    context: a test, a manual call inside a request) the error goes to the caller, whose own
    retry (the request's) applies. The conflict must not be caught on the way: the batch
    methods re-raise ``PG_CONCURRENCY_EXCEPTIONS_TO_RETRY`` before their own error handling."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            try:
                return method(self, *args, **kwargs)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                if not self.env.context.get("cron_id") or attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    raise
                _logger.info(
                    "%s.%s: %s, batch rolled back and retried (%d/%d)",
                    self._name,
                    method.__name__,
                    type(error).__name__,
                    attempt,
                    MAX_TRIES_ON_CONCURRENCY_FAILURE - 1,
                )
                self.env.cr.rollback()
                time.sleep(random.uniform(0.0, 0.5 * 2**attempt))
        return None  # not reached: the last attempt returns or raises

    return wrapper
