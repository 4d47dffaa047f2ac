from datetime import timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .collections_common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestCreditPromise(CollectionsCommon):
    def _promise(self, amount=600.0, days=5, moves=None, user=None, **vals):
        Promise = self.Promise.with_user(user or self.collector)
        return Promise.create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set((moves or self.invoice).ids)],
                "amount": amount,
                "date_promised": self._days(days),
                **vals,
            }
        )

    def _cron(self, days):
        with freeze_time(self._days(days)):
            self.Promise._cron_check_promises()

    # --- recording --- #
    def test_reference_grace_and_pause(self):
        promise = self._promise()
        self.assertTrue(promise.name.startswith("PTP/"))
        self.assertEqual(promise.grace_days, 3, "the company's default grace days")
        self.assertEqual(promise.date_grace_end, self._days(8))
        self.assertEqual(promise.user_id, self.collector)
        self.assertEqual(promise.state, "open")
        # the invoice (30 days overdue) is dunned without the promise, not with it
        self.assertIn(self.invoice.id, self._blocked(self.invoice))
        self.assertNotIn(self.invoice.id, self._dunned_moves())
        self.assertIn(
            self.invoice.id, self._blocked(self.invoice, self._days(8)), "pause includes the grace end"
        )
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice, self._days(9)))
        promise.action_cancel()
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice))
        self.assertIn(self.invoice.id, self._dunned_moves())

    def test_company_grace_days_setting(self):
        self.company.credit_promise_grace_days = 7
        promise = self._promise()
        self.assertEqual(promise.date_grace_end, self._days(12))

    # --- kept / broken --- #
    def test_kept_only_when_payments_cover_the_amount(self):
        promise = self._promise(amount=600.0)
        self._pay(self.invoice, amount=300.0, days_after_invoice=30)  # today
        self._cron(1)
        self.assertEqual(promise.state, "open", "a partial payment does not keep the promise")
        self.assertEqual(promise.amount_paid, 300.0)
        self._pay(self.invoice, amount=300.0, days_after_invoice=32)
        self._cron(2)
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.date_closed, self._days(2))
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice))
        self.assertFalse(self.Task.search([("promise_id", "=", promise.id)]))

    def test_broken_after_grace_with_partial_payment(self):
        promise = self._promise(amount=600.0)
        self._pay(self.invoice, amount=500.0, days_after_invoice=30)
        self._cron(8)
        self.assertEqual(promise.state, "open", "still within the grace period")
        self._cron(9)
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.date_closed, self._days(9))
        # the pause lifts, the collector gets a call task, customer and invoice are told
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice, self._days(9)))
        task = self.Task.search([("promise_id", "=", promise.id)])
        self.assertEqual(len(task), 1)
        self.assertEqual(
            (task.task_type, task.origin, task.user_id), ("call", "promise_broken", self.collector)
        )
        self.assertEqual(task.move_ids, self.invoice)
        self.assertTrue(task.activity_ids)
        for record in (self.customer, self.invoice, promise):
            self.assertTrue(
                any(
                    promise.name in (m.body or "") and "broken" in (m.body or "") for m in record.message_ids
                ),
                record,
            )
        # a second run changes nothing and opens no second task
        self._cron(10)
        self.assertEqual(self.Task.search_count([("promise_id", "=", promise.id)]), 1)

    def test_payment_dated_before_the_promise_does_not_count(self):
        promise = self._promise(amount=500.0)
        self._pay(self.invoice, amount=500.0, days_after_invoice=29)  # yesterday
        self._cron(9)
        self.assertEqual(promise.state, "broken")

    def test_payment_after_grace_does_not_keep(self):
        promise = self._promise(amount=400.0, days=0)
        self._pay(self.invoice, amount=400.0, days_after_invoice=34)  # promised today, grace 3, paid day 4
        self._cron(4)
        self.assertEqual(promise.state, "broken")

    def test_kept_rate_on_payment_behaviour(self):
        self.assertEqual(self.customer.credit_promise_kept_rate, 0.0)
        second = self._invoice(800.0, days_ago=20)
        kept = self._promise(amount=200.0)
        broken = self._promise(amount=300.0, moves=second)
        self._pay(self.invoice, amount=200.0, days_after_invoice=30)
        self._cron(9)
        self.assertEqual((kept.state, broken.state), ("kept", "broken"))
        third = self._invoice(100.0, days_ago=10)
        with freeze_time(self._days(9)):
            self._promise(amount=50.0, moves=third, days=10)  # open: does not count
        self.customer.invalidate_recordset()
        with freeze_time(self._days(9)):
            self.assertEqual(self.customer.credit_promise_kept_count, 1)
            self.assertEqual(self.customer.credit_promise_broken_count, 1)
            self.assertEqual(self.customer.credit_promise_kept_rate, 50.0)
            self.assertEqual(self.contact.credit_promise_kept_rate, 50.0, "contacts roll up")

    def test_kept_rate_is_set_based(self):
        customers = self.customer | self.other_customer
        customers.mapped("credit_promise_kept_rate")
        stats = ["credit_promise_kept_rate", "credit_promise_kept_count", "credit_promise_broken_count"]
        customers.invalidate_recordset(stats)
        with self.assertQueryCount(1):
            customers.mapped("credit_promise_kept_rate")

    # --- bad input: clear error, nothing written --- #
    def _assert_refused(self, message, **kwargs):
        count = self.Promise.search_count([])
        with self.assertRaises(ValidationError) as caught:
            self._promise(**kwargs)
        self.assertIn(message, str(caught.exception))
        self.assertEqual(self.Promise.search_count([]), count)

    def test_bad_input(self):
        self._assert_refused("past", days=-1)
        self._assert_refused("positive", amount=0.0)
        self._assert_refused("positive", amount=-5.0)
        self._assert_refused("more than the open amount", amount=1000.01)
        self._assert_refused("another customer", moves=self._invoice(100.0, partner=self.other_customer))
        paid = self._invoice(100.0)
        self._pay(paid)
        self._assert_refused("already paid", moves=paid, amount=10.0)
        self._assert_refused("posted customer invoices", moves=self._invoice(100.0, post=False), amount=10.0)
        self._assert_refused(
            "posted customer invoices", moves=self._invoice(100.0, move_type="out_refund"), amount=10.0
        )
        self.assertFalse(self.invoice.message_ids.filtered(lambda m: "PTP/" in (m.body or "")))

    def test_other_company_invoice_refused(self):
        foreign = self._other_company_invoice()
        count = self.Promise.sudo().search_count([])
        with self.assertRaises(UserError) as caught:
            self._promise(amount=10.0, moves=self.invoice | foreign, user=self.env.user)
        self.assertRegex(str(caught.exception), r"The invoices.*belong to another company than")
        self.assertEqual(self.Promise.sudo().search_count([]), count)

    def test_contact_becomes_customer(self):
        promise = self.Promise.with_user(self.collector).create(
            {
                "partner_id": self.contact.id,
                "move_ids": [Command.set(self.invoice.ids)],
                "amount": 100.0,
                "date_promised": self.today,
            }
        )
        self.assertEqual(promise.partner_id, self.customer)

    # --- access --- #
    def test_only_credit_users_manage_promises(self):
        with self.assertRaises(AccessError) as caught:
            self._promise(user=self.sales_user)
        self.assertRegex(str(caught.exception), r"Only the credit team records and changes promises to pay\.")
        promise = self._promise()
        self.assertEqual(promise.with_user(self.sales_user).read(["amount"])[0]["amount"], 600.0)
        with self.assertRaises(AccessError) as caught:
            promise.with_user(self.sales_user).write({"amount": 10.0})
        self.assertRegex(str(caught.exception), r"Only the credit team records and changes promises to pay\.")
        with self.assertRaises(AccessError) as caught:
            promise.with_user(self.sales_user).action_cancel()
        self.assertRegex(str(caught.exception), r"Only the credit team records and changes promises to pay\.")
        self.assertEqual(promise.state, "open")

    def test_invoice_form_action_presets_the_invoice(self):
        action = self.env.ref("credit_control.credit_promise_action_new")
        self.assertEqual((action.res_model, action.target), ("credit.promise", "new"))
        promise = (
            self.Promise.with_user(self.collector)
            .with_context(
                default_partner_id=self.customer.id,
                default_move_ids=self.invoice.ids,
                default_amount=self.invoice.amount_residual,
                default_date_promised=self._days(2),
            )
            .create({})
        )
        self.assertEqual((promise.move_ids, promise.amount), (self.invoice, 1000.0))
        self.assertEqual(promise.date_grace_end, self._days(2) + timedelta(days=3))

    def test_record_promise_from_invoice_form(self):
        action = self.invoice.with_user(self.collector).action_credit_record_promise()
        self.assertEqual((action["res_model"], action["target"]), ("credit.promise", "new"))
        form = Form(self.Promise.with_user(self.collector).with_context(**action["context"]))
        self.assertEqual(form.amount, 1000.0)
        self.assertEqual(form.partner_id, self.customer)
        form.amount = 400.0
        form.date_promised = self._days(3)
        form.channel = "email"
        promise = form.save()
        self.assertEqual((promise.move_ids, promise.amount, promise.state), (self.invoice, 400.0, "open"))

    def test_promise_over_two_invoices(self):
        second = self._invoice(500.0, days_ago=20)
        promise = self._promise(amount=1200.0, moves=self.invoice | second)
        self.assertEqual(promise.amount_open, 1500.0)
        for move in self.invoice | second:
            self.assertTrue(move.message_ids.filtered(lambda m, p=promise: p.name in (m.body or "")))
        self.assertEqual(self._blocked(self.invoice | second), {self.invoice.id, second.id})
        self._pay(second, days_after_invoice=20)
        self._pay(self.invoice, amount=700.0, days_after_invoice=30)
        self._cron(1)
        self.assertEqual(promise.state, "kept")

    def test_dunning_hook_is_one_query(self):
        self._promise()
        moves = self.invoice | self._invoice(300.0, days_ago=40) | self._invoice(200.0, days_ago=50)
        self.env.flush_all()
        with self.assertQueryCount(1):
            blocked = self.env["account.move"]._credit_blocked_by_collections(moves.ids, self.today)
        self.assertEqual(blocked, {self.invoice.id})


@tagged("post_install", "-at_install")
class TestCreditPromiseNightlyBatch(CollectionsCommon):
    """The nightly promise check in a number of queries that does not grow with the promises,
    with chatter, followers, tracking and activities on, as in production."""

    @classmethod
    def default_env_context(cls):
        return {}

    def _broken_promises(self, count):
        """``count`` open promises of as many customers, each broken four days from now."""
        customers = self.env["res.partner"].create(
            [{"name": "Kunde %s" % index, "is_company": True} for index in range(count)]
        )
        vals = []
        for customer in customers:
            invoice = self._invoice(500.0, partner=customer, days_ago=30)
            vals.append(
                {
                    "partner_id": customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": 200.0,
                    "date_promised": self.today,
                }
            )
        return self.Promise.with_user(self.collector).create(vals)

    def _check_queries(self, promises):
        """Queries of the check that breaks ``promises`` (grace of 3 days ended), cold cache."""
        self.env.flush_all()
        self.env.cr.precommit.run()  # the creations' own tracking is not part of the check
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        kept, broken = self.Promise.sudo().browse(promises.ids)._update_state(self._days(4))
        self.env.flush_all()
        count = self.env.cr.sql_log_count - before
        self.assertEqual((len(kept), len(broken)), (0, len(promises)))
        return count

    def test_query_count_independent_of_the_promises(self):
        self._check_queries(self._broken_promises(1))  # warm-up: the ORM caches of a server
        one = self._check_queries(self._broken_promises(1))
        promises = self._broken_promises(5)
        five = self._check_queries(promises)
        self.assertEqual(five, one, "1 broken promise: %s queries, 5: %s" % (one, five))
        # and each broken promise got what it got one by one before
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        tasks = self.Task.search([("promise_id", "in", promises.ids)])
        self.assertEqual(tasks.promise_id, promises)
        self.assertEqual(len(tasks), 5)
        for task in tasks:
            promise = task.promise_id
            self.assertEqual(
                (task.task_type, task.origin, task.user_id, task.priority, task.date_deadline),
                ("call", "promise_broken", self.collector, "1", self.today),
            )
            self.assertEqual(task.partner_id, promise.partner_id)
            self.assertEqual(task.move_ids, promise.move_ids)
            self.assertEqual(task.name, "Broken promise %s: call the customer" % promise.name)
            self.assertEqual(
                (task.activity_ids.user_id, task.activity_ids.summary, task.activity_ids.date_deadline),
                (self.collector, task.name, self.today),
            )
            self.assertIn(self.collector.partner_id, task.message_partner_ids)
            self.assertTrue(task.message_ids.filtered(lambda m: "created" in (m.body or "")))
            note = promise.message_ids.filtered(lambda m: "broken" in (m.body or ""))
            self.assertEqual(len(note), 1)
            self.assertEqual(
                note.tracking_value_ids.mapped(
                    lambda t: (t.field_id.name, t.old_value_char, t.new_value_char)
                ),
                [("state", "Open", "Broken")],
                "the change of state is tracked on the note",
            )
            for record in (promise.partner_id, promise.move_ids):
                self.assertTrue(record.message_ids.filtered(lambda m, p=promise: p.name in (m.body or "")))
        # a second check opens no second task
        self.Promise.sudo().browse(promises.ids)._update_state(self._days(5))
        self.assertEqual(self.Task.search_count([("promise_id", "in", promises.ids)]), 5)

    def test_kept_promise_tracks_its_state(self):
        promise = self._broken_promises(1)
        self._pay(promise.move_ids, amount=200.0, days_after_invoice=30)
        kept, broken = promise._update_state(self._days(1))
        self.assertEqual((kept, broken), (promise, self.Promise))
        self.assertEqual(promise.state, "kept")
        note = promise.message_ids.filtered(lambda m: "kept" in (m.body or ""))
        self.assertEqual(
            note.tracking_value_ids.mapped(lambda t: (t.old_value_char, t.new_value_char)), [("Open", "Kept")]
        )
        self.assertFalse(self.Task.search([("promise_id", "=", promise.id)]))
