from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.credit_control.models.credit_payment_plan import PLAN_CRON_CURSOR

from .collections_common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestCronBatches(CollectionsCommon):
    """The scheduled actions work in batches, report their progress to the scheduler and
    resume where an interrupted run stopped (the scheduler commits after each batch)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoices = cls.invoice | cls._invoice(400.0, days_ago=20) | cls._invoice(300.0, days_ago=10)

    def _progress(self, method, *args, **kwargs):
        """Run ``method`` and return the (done, remaining) it reported to the scheduler."""
        with patch.object(self.registry["ir.cron"], "_notify_progress") as notify:
            method(*args, **kwargs)
        self.assertEqual(notify.call_count, 1)
        return notify.call_args.kwargs["done"], notify.call_args.kwargs["remaining"]

    # --- promise check --- #
    def _promises(self):
        return self.Promise.create(
            [
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": invoice.amount_residual,
                    "date_promised": self._days(1),
                    "grace_days": 0,
                }
                for invoice in self.invoices
            ]
        )

    def test_promise_check_in_batches_resumes_with_the_open_promises(self):
        promises = self._promises()
        with freeze_time(self._days(5)):
            self.assertEqual(self._progress(self.Promise._cron_check_promises, batch_size=2), (2, 1))
            self.assertEqual(promises.mapped("state"), ["broken", "broken", "open"])
            # the run stopped here (worker killed after the commit): the next one resumes
            self.assertEqual(self._progress(self.Promise._cron_check_promises, batch_size=2), (1, 0))
            self.assertEqual(set(promises.mapped("state")), {"broken"})
            self.assertEqual(self._progress(self.Promise._cron_check_promises, batch_size=2), (0, 0))
        tasks = self.Task.search([("promise_id", "in", promises.ids)])
        self.assertEqual(len(tasks), 3, "one call task per broken promise, none twice")
        self.assertEqual(tasks.promise_id, promises)

    def test_promise_check_keeps_covered_promises_within_the_grace_period(self):
        promises = self._promises()
        self._pay(self.invoices[1], days_after_invoice=20)  # today: within the grace period
        # the due ones first (none yet), then the covered promise among those still open
        self.assertEqual(self._progress(self.Promise._cron_check_promises, batch_size=2), (1, 0))
        self.assertEqual(promises.mapped("state"), ["open", "kept", "open"])
        self.assertEqual(self._progress(self.Promise._cron_check_promises, batch_size=2), (0, 0))

    # --- payment plan check --- #
    def _plans(self):
        plans = self.Plan.create(
            [
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount_total": invoice.amount_residual,
                    "instalment_count": 2,
                    "frequency": "monthly",
                    "date_first": self._days(10),
                }
                for invoice in self.invoices
            ]
        )
        plans.action_activate()
        return plans

    def test_payment_plan_check_in_batches_with_a_cursor(self):
        plans = self._plans()
        Plan = self.registry["credit.payment.plan"]
        params = self.env["ir.config_parameter"].sudo()
        with patch.object(Plan, "_refresh_instalments", autospec=True) as refresh:
            self.assertEqual(self._progress(self.Plan._cron_check_payment_plans, batch_size=2), (2, 1))
            self.assertEqual(refresh.call_args.args[0], plans[:2])
            self.assertEqual(params.get_param(PLAN_CRON_CURSOR), "%s:%s" % (fields.Date.today(), plans[1].id))
            # the next run (after the commit, or after a crash of the following batch) resumes
            self.assertEqual(self._progress(self.Plan._cron_check_payment_plans, batch_size=2), (1, 0))
            self.assertEqual(refresh.call_args.args[0], plans[2])
            self.assertFalse(params.get_param(PLAN_CRON_CURSOR), "the day's check is complete")
            # a cursor left by an interrupted run of another day is not followed
            params.set_param(
                PLAN_CRON_CURSOR, "%s:%s" % (fields.Date.today() - timedelta(days=1), plans[2].id)
            )
            self.assertEqual(self._progress(self.Plan._cron_check_payment_plans), (3, 0))
            self.assertEqual(refresh.call_args.args[0], plans)

    def test_payment_plan_check_redone_after_a_crash_changes_nothing(self):
        plans = self._plans()
        self._pay(self.invoices[0], amount=500.0, days_after_invoice=30)
        self.Plan._cron_check_payment_plans(batch_size=10)
        states = plans.line_ids.mapped("state")
        messages = len(plans.message_ids)
        # the same batch again (its commit lost): idempotent
        self.Plan._cron_check_payment_plans(batch_size=10)
        self.assertEqual(plans.line_ids.mapped("state"), states)
        self.assertEqual(len(plans.message_ids), messages)

    # --- a lost race inside a cron worker --- #
    def _conflict_once(self):
        """``_update_state`` of the promises losing a race (serialisation failure) once."""
        Promise = self.registry["credit.promise"]
        original = Promise._update_state
        calls = []

        def update_state(records, today):
            calls.append(records.ids)
            if len(calls) == 1:
                raise psycopg2.errors.SerializationFailure("could not serialize access")
            return original(records, today)

        return patch.object(Promise, "_update_state", update_state), calls

    def test_conflict_in_a_cron_worker_rolls_back_and_retries_the_batch(self):
        promises = self._promises()
        conflict, calls = self._conflict_once()
        with (
            freeze_time(self._days(5)),
            conflict,
            patch.object(self.env.cr, "rollback") as rollback,
            patch("odoo.addons.credit_control.models.cron_retry.time.sleep") as sleep,
        ):
            self.Promise.with_context(cron_id=1)._cron_check_promises()
        self.assertEqual(rollback.call_count, 1, "the lost batch rolled back whole")
        self.assertEqual(sleep.call_count, 1)
        self.assertEqual(len(calls), 2, "and done again")
        self.assertEqual(set(promises.mapped("state")), {"broken"})
        self.assertEqual(len(self.Task.search([("promise_id", "in", promises.ids)])), 3)

    def test_conflict_outside_a_cron_worker_goes_to_the_caller(self):
        promises = self._promises()
        conflict, calls = self._conflict_once()
        with freeze_time(self._days(5)), conflict, patch.object(self.env.cr, "rollback") as rollback:
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                self.Promise._cron_check_promises()
        rollback.assert_not_called()
        self.assertEqual(len(calls), 1)
        self.assertEqual(set(promises.mapped("state")), {"open"})
