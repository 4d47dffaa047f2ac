import logging
import time

from . import controllers, lib, models, reports, wizards

_logger = logging.getLogger(__name__)


def post_init_hook(env):
    """Companies existing at install get the default dunning levels (the main company has them
    from the data file; companies created later get them in res.company.create)."""
    env["res.company"].with_context(active_test=False).search([])._credit_dunning_create_default_levels()
    _credit_install_on_live_ledger(env)


def uninstall_hook(env):
    """The running totals' triggers on journal items go with the module (its table is dropped),
    and so do the indexes it made on Odoo's tables (named credit_control_*: partial indexes on
    journal items and moves; the module's own tables go with their indexes)."""
    from odoo.tools import SQL

    from .models.credit_exposure_total import drop_exposure_total_triggers

    drop_exposure_total_triggers(env.cr)
    env.cr.execute(
        r"""
        SELECT index_class.relname
          FROM pg_index
          JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
          JOIN pg_namespace ON pg_namespace.oid = index_class.relnamespace
         WHERE pg_namespace.nspname = current_schema()
           AND index_class.relname LIKE 'credit\_control\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE pg_constraint.conindid = pg_index.indexrelid)
        """
    )
    for (name,) in env.cr.fetchall():
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))


def _credit_install_on_live_ledger(env, batch_size=500):
    """Installed on a database with history: adopt the limits set in core Odoo, then compute the
    payment behaviour, score and rating of every existing customer, company by company, in
    batches with progress in the log, so that the first screens show real figures. Escalation and
    exposure are computed live from the invoices and need nothing here."""
    # sudo: installing is done as superuser; the hook also runs for every company in tests
    env = env(su=True)
    Partner = env["res.partner"]
    # one credit limit, Odoo's: limits set in core Odoo before the install stay in force
    Partner._credit_adopt_core_limits()
    for company in env["res.company"].search([]):
        partners = Partner.with_company(company)
        customer_ids = partners.search(partners._credit_customer_domain(), order="id").ids
        total = len(customer_ids)
        started = time.monotonic()
        for start in range(0, total, batch_size):
            batch = partners.browse(customer_ids[start : start + batch_size])
            batch._refresh_payment_behaviour()
            batch._refresh_credit_rating()
            env.flush_all()
            # keep the cache (and memory) small on large ledgers
            env.invalidate_all()
            _logger.info(
                "credit_control: payment behaviour and rating of %s/%s customers of %s (%.0fs)",
                min(start + batch_size, total),
                total,
                company.name,
                time.monotonic() - started,
            )
