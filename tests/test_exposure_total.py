from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestExposureTotal(CreditControlCommon):
    """The running totals of open items (credit.exposure.total) against the live sums."""

    def assertTotalsLive(self):
        """The totals equal the live sums of the open items, key by key."""
        differences = self.env["credit.exposure.total"]._credit_verify()
        self.assertEqual(differences, [], "running totals differ from the live sums")

    def _live_exposure(self, partner):
        """The exposure as the live sums give it (the totals' triggers disabled for the call)."""
        self.env.flush_all()
        self.env.cr.execute("ALTER TABLE account_move_line DISABLE TRIGGER credit_control_exposure_total_upd")
        try:
            return partner._get_credit_exposure()
        finally:
            self.env.cr.execute(
                "ALTER TABLE account_move_line ENABLE ALWAYS TRIGGER credit_control_exposure_total_upd"
            )

    def _total_rows(self, partner):
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """SELECT SUM(t.amount_residual), SUM(t.items) FROM credit_exposure_total t
                     JOIN res_partner p ON p.id = t.partner_id
                    WHERE p.commercial_partner_id = %s AND t.company_id = %s
                      AND t.account_id = %s""",
                partner.commercial_partner_id.id,
                self.company.id,
                self.company_data["default_account_receivable"].id,
            )
        )[0]

    def assertSameExposure(self, partner, receivable):
        exposure = partner._get_credit_exposure()
        self.assertEqual(exposure["receivable"], receivable)
        live = self._live_exposure(partner)
        for key in ("receivable", "overdue", "overdue_days", "total"):
            self.assertEqual(exposure[key], live[key], key)
        self.assertTotalsLive()

    def test_posting_partial_payment_full_reconciliation(self):
        invoice = self._invoice(1000.0, days_ago=20)
        self.assertEqual(self._total_rows(self.customer), (1000.0, 1))
        self.assertSameExposure(self.customer, 1000.0)
        self._pay(invoice, amount=400.0)
        self.assertSameExposure(self.customer, 600.0)
        self._pay(invoice)
        self.assertSameExposure(self.customer, 0.0)
        amount, items = self._total_rows(self.customer)
        self.assertFalse(items, "a reconciled invoice leaves no open item in the totals")

    def test_reversal_credit_note_and_open_payment(self):
        invoice = self._invoice(500.0, days_ago=3)
        self._invoice(120.0, move_type="out_refund", days_ago=1)
        self._unreconciled_payment(30.0, partner=self.contact)
        self.assertSameExposure(self.customer, 350.0)
        invoice._reverse_moves([{"date": self.today}], cancel=True)  # posted and reconciled
        self.assertSameExposure(self.customer, -150.0)

    def test_reset_to_draft_and_deletion_of_a_draft(self):
        invoice = self._invoice(250.0, days_ago=1)
        draft = self._invoice(80.0, post=False)
        self.assertSameExposure(self.customer, 250.0)
        invoice.button_draft()
        self.assertSameExposure(self.customer, 0.0)
        invoice.unlink()
        draft.action_post()
        self.assertSameExposure(self.customer, 80.0)
        draft.button_draft()
        draft.unlink()
        self.assertSameExposure(self.customer, 0.0)

    def test_multi_currency(self):
        other = self.setup_other_currency("EUR", rates=[("2016-01-01", 3.0), ("2017-01-01", 2.0)])
        invoice = self._invoice(300.0, currency=other, days_ago=40)
        self._invoice(60.0, term=self.term_30)  # not due yet
        exposure = self.customer._get_credit_exposure()
        self.assertEqual(exposure["receivable"], 150.0 + 60.0, "300 EUR at today's rate 2.0")
        self.assertEqual(exposure["overdue"], 150.0)
        self.assertSameExposure(self.customer, 210.0)
        self._pay(invoice, amount=100.0)
        self.assertSameExposure(self.customer, 100.0 + 60.0)

    def test_partner_hierarchy_change(self):
        """The totals are per partner: a partner that joins a company counts for it at once."""
        person = self.env["res.partner"].create({"name": "Hans Einzeln"})
        self._invoice(200.0, partner=person, days_ago=1)
        self._invoice(100.0, partner=self.customer, days_ago=1)
        self.assertSameExposure(self.customer, 100.0)
        self.assertSameExposure(person, 200.0)
        person.parent_id = self.customer
        self.assertEqual(person.commercial_partner_id, self.customer)
        self.assertSameExposure(self.customer, 300.0)
        self.assertSameExposure(person, 300.0)

    def test_excluded_item_does_not_count(self):
        invoice = self._invoice(700.0, days_ago=30)
        self._invoice(50.0, term=self.term_30)  # not due yet
        self.assertSameExposure(self.customer, 750.0)
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        receivable.sudo().credit_exposure_excluded = True
        self.assertSameExposure(self.customer, 50.0)
        self.assertEqual(self.customer._get_credit_exposure()["overdue"], 0.0)
        receivable.sudo().credit_exposure_excluded = False
        self.assertSameExposure(self.customer, 750.0)

    def test_fallback_to_live_sums_without_triggers(self):
        """A total that is no longer maintained is never read: with a trigger disabled, the
        exposure comes from the open items (an invoice posted meanwhile counts)."""
        self._invoice(100.0, days_ago=1)
        self.env.flush_all()
        self.env.cr.execute("ALTER TABLE account_move_line DISABLE TRIGGER credit_control_exposure_total_ins")
        self.env.cr.execute("ALTER TABLE account_move_line DISABLE TRIGGER credit_control_exposure_total_upd")
        self._invoice(40.0, days_ago=1)
        self.assertEqual(self.customer._get_credit_exposure()["receivable"], 140.0)
        self.assertTrue(self.env["credit.exposure.total"]._credit_verify(), "the totals are stale")
        self.env.cr.execute(
            "ALTER TABLE account_move_line ENABLE ALWAYS TRIGGER credit_control_exposure_total_ins"
        )
        self.env.cr.execute(
            "ALTER TABLE account_move_line ENABLE ALWAYS TRIGGER credit_control_exposure_total_upd"
        )
        # enabled again, but stale: the check rebuilds them
        self.env["credit.exposure.total"]._credit_verify(rebuild=True)
        self.assertSameExposure(self.customer, 140.0)

    def test_rebuild_from_scratch(self):
        self._invoice(100.0, days_ago=1)
        self._invoice(20.0, partner=self.contact, days_ago=9)
        self.env.flush_all()
        self.env.cr.execute("UPDATE credit_exposure_total SET amount_residual = amount_residual + 1")
        self.assertTrue(self.env["credit.exposure.total"]._credit_verify())
        self.env["credit.exposure.total"]._credit_rebuild()
        self.assertSameExposure(self.customer, 120.0)

    def test_excluded_flag_guarded(self):
        invoice = self._invoice(100.0, days_ago=1)
        line = invoice.line_ids.filtered(lambda item: item.account_type == "asset_receivable")
        for user in (self.sales_user, self.collector, self.credit_manager):
            with self.assertRaises(AccessError) as cm:
                line.with_user(user).write({"credit_exposure_excluded": True})
            self.assertIn("not the company's risk", str(cm.exception))
        self.assertFalse(line.credit_exposure_excluded)
        # at creation: refused, and a default_* context key is ignored
        vals = {
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "invoice_line_ids": [Command.create({"name": "x", "price_unit": 10.0, "tax_ids": []})],
        }
        invoice_user = self.collector
        move = (
            self.env["account.move"]
            .with_user(invoice_user)
            .with_context(default_credit_exposure_excluded=True)
            .create(vals)
        )
        self.assertFalse(any(move.sudo().line_ids.mapped("credit_exposure_excluded")))
        with self.assertRaises(AccessError):
            self.env["account.move.line"].with_user(invoice_user).create(
                {
                    "move_id": move.id,
                    "name": "y",
                    "account_id": self.company_data["default_account_revenue"].id,
                    "credit_exposure_excluded": True,
                }
            )

    def test_order_check_reads_the_totals(self):
        """The confirmation's check sees the totals: an invoice posted in the same transaction
        blocks, the same invoice marked as not the company's risk no longer does; 3 queries."""
        self.product_a.invoice_policy = "order"
        self._set_limit(self.customer, 1000.0)
        invoice = self._invoice(900.0, term=self.term_30)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.sales_user.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "product_uom_qty": 1,
                            "price_unit": 200.0,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        check = order._credit_check(lock=True)
        self.assertEqual([failure["rule"] for failure in check["failures"]], ["limit"])
        self.assertEqual(check["exposure"]["receivable"], 900.0)
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        receivable.sudo().credit_exposure_excluded = True
        for _warm in range(2):  # warm ACL, rule and default caches, then measure
            self.env.invalidate_all()
            order.read(["amount_total", "currency_id", "date_order", "payment_term_id", "partner_id"])
            order.read(["company_id", "state", "credit_block_state"])
            order.partner_id.commercial_partner_id.read(["name"])
            self.env.user.read(["lang", "company_id"])
            count = self._count_queries(lambda: order._credit_check(lock=True))
        self.assertLessEqual(count, 3)
        check = order._credit_check(lock=True)
        self.assertFalse(check["failures"])
        self.assertEqual(check["exposure"]["receivable"], 0.0)
        order.with_user(self.sales_user).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_uninstall_hook_drops_the_triggers(self):
        """Uninstalled, the module leaves no trigger on journal items (its table is dropped) and
        no exposure function; until then the exposure falls back to the live sums."""
        from ..models.credit_exposure_total import drop_exposure_total_triggers

        self._invoice(10.0, days_ago=1)
        self.env.flush_all()
        # the registry looks the exposure function up again after this test (rolled back)
        self.addCleanup(self.env.registry.__dict__.pop, "_credit_exposure_function", None)
        drop_exposure_total_triggers(self.env.cr)
        self.env.registry.__dict__.pop("_credit_exposure_function", None)
        self.assertIsNone(self.env["res.partner"]._credit_exposure_function(), "dropped with the triggers")
        self.env.cr.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'account_move_line'::regclass AND tgname LIKE %s",
            ("credit_control_exposure_total%",),
        )
        self.assertFalse(self.env.cr.fetchall())
        self._invoice(5.0, days_ago=1)
        self.assertEqual(self.customer._get_credit_exposure()["receivable"], 15.0)

    # --- the exposure statement of one customer as a database function --- #
    def _statement_exposures(self, partners, **kwargs):
        """The exposures as the statement itself gives them (the function not used)."""
        registry = self.env.registry
        saved = registry.__dict__.get("_credit_exposure_function")
        registry.__dict__["_credit_exposure_function"] = ""
        try:
            return partners._get_credit_exposures(**kwargs)
        finally:
            registry.__dict__["_credit_exposure_function"] = saved

    def test_function_and_statement_agree(self):
        """One customer's exposure comes from the database function (its plan kept by the
        session), several customers' from the statement: the same figures either way, locked or
        not, with exclusions, foreign currency, overdue items, draft invoices and orders."""
        partner = self.env["res.partner"]
        function = partner._credit_exposure_function()
        self.assertTrue(function, "the exposure function is made at install")
        self.assertEqual(function, partner._credit_exposure_function_sql()[0])
        self.product_a.invoice_policy = "order"
        other = self.setup_other_currency("EUR", rates=[("2016-01-01", 3.0), ("2017-01-01", 2.0)])
        self._set_limit(self.customer, 5000.0)
        self._invoice(300.0, currency=other, days_ago=40)
        self._invoice(60.0, term=self.term_30, partner=self.contact)
        draft = self._invoice(70.0, post=False)
        orders = self._order(200.0) | self._order(30.0)
        orders.action_confirm()
        second = self.env["res.partner"].create({"name": "Zweite AG", "is_company": True})
        self._invoice(40.0, partner=second, days_ago=5)
        partner_class = type(partner)
        results = []
        for kwargs in ({}, {"lock": True}, {"exclude_orders": orders[:1], "exclude_moves": draft}):
            with self.subTest(**{key: str(value) for key, value in kwargs.items()}):
                with patch.object(
                    partner_class,
                    "_credit_exposure_statement",
                    autospec=True,
                    side_effect=partner_class._credit_exposure_statement,
                ) as statements:
                    single = self.contact._get_credit_exposures(**kwargs)
                self.assertEqual(statements.call_count, 0, "one customer: the function")
                self.assertEqual(single, self._statement_exposures(self.contact, **kwargs))
                both = (self.customer | second)._get_credit_exposures(**kwargs)
                self.assertEqual(both[self.customer.id], single[self.customer.id])
                self.assertEqual(both[second.id], second._get_credit_exposure(**kwargs))
                results.append(single)
        exposure = results[0][self.customer.id]
        self.assertEqual(exposure["receivable"], 150.0 + 60.0, "300 EUR at today's rate 2.0")
        self.assertEqual(exposure["overdue"], 150.0)
        self.assertEqual(exposure["draft_invoices"], 70.0)
        self.assertEqual(exposure["uninvoiced_orders"], 230.0)
        self.assertEqual(exposure["limit"], 5000.0)
        self.assertEqual(results[2][self.customer.id]["uninvoiced_orders"], 30.0)
        self.assertEqual(results[2][self.customer.id]["draft_invoices"], 0.0)

    def test_function_of_other_code_is_not_called(self):
        """Code that writes another statement names another function: until ``init`` makes it,
        the statement is sent as it is; ``init`` drops the functions of older code."""
        partner = self.env["res.partner"]
        name = partner._credit_exposure_function_sql()[0]
        self.env.cr.execute(
            SQL(
                "ALTER FUNCTION %s RENAME TO credit_control_exposure_of_0000000000000000",
                SQL.identifier(name),
            )
        )
        self.env.registry.__dict__.pop("_credit_exposure_function", None)
        try:
            self.assertIsNone(partner._credit_exposure_function())
            self._invoice(100.0, days_ago=1)
            self.assertEqual(self.customer._get_credit_exposure(lock=True)["receivable"], 100.0)
            partner._credit_exposure_function_init()
            self.assertEqual(partner._credit_exposure_function(), name)
            functions = self.env.execute_query(
                SQL(
                    "SELECT proname FROM pg_proc WHERE proname LIKE %s",
                    "credit\\_control\\_exposure\\_of\\_%",
                )
            )
            self.assertEqual(functions, [(name,)])
            self.assertEqual(self.customer._get_credit_exposure(lock=True)["receivable"], 100.0)
        finally:
            self.env.registry.__dict__.pop("_credit_exposure_function", None)
            partner._credit_exposure_function()

    def test_confirmation_queries_independent_of_open_items_and_orders(self):
        """The Confirm button's queries (check, confirmation, every hook of the module) are the
        same for a customer with 1 open item and 1 confirmed order and for one with many; the
        check itself is 3 queries (the exposure function, the rules' customer fields, the
        dunning level)."""
        self.product_a.invoice_policy = "order"
        few = self.env["res.partner"].create({"name": "Wenig GmbH", "is_company": True})
        many = self.env["res.partner"].create({"name": "Viel GmbH", "is_company": True})
        for partner, items in ((few, 1), (many, 12)):
            self._set_limit(partner, 100000.0)
            for _i in range(items):
                self._invoice(100.0, partner=partner, term=self.term_30)
                self._invoice(10.0, partner=partner, days_ago=1).line_ids.flush_recordset()
            self._order(50.0, partner=partner).action_confirm()
            self._order(50.0, partner=partner).action_confirm()
        checks, confirms = [], []
        for partner in (few, many):
            for _warm in range(2):  # warm ACL, rule and default caches, then measure
                order = self._order(20.0, partner=partner)
                self.env.invalidate_all()
                order.read(["amount_total", "currency_id", "date_order", "payment_term_id", "partner_id"])
                order.read(["company_id", "state", "credit_block_state"])
                order.partner_id.commercial_partner_id.read(["name"])
                self.env.user.read(["lang", "company_id"])
                check = self._count_queries(lambda order=order: order._credit_check(lock=True))
                self.env.invalidate_all()
                confirm = self._count_queries(lambda order=order: order.action_credit_confirm())
                self.assertEqual(order.state, "sale")
            checks.append(check)
            confirms.append(confirm)
        self.assertLessEqual(checks[0], 3)
        self.assertEqual(checks[0], checks[1])
        self.assertEqual(confirms[0], confirms[1])

    # --- the statement of several customers, planned with what decides its branches (#16) --- #
    def test_statement_of_several_customers_follows_the_triggers(self):
        """Several customers: whether the totals are in force is read before the statement is
        planned (one branch sent): with a trigger disabled the live sums are read, and the
        figures are those of each customer alone."""
        second = self.env["res.partner"].create({"name": "Zweite AG", "is_company": True})
        self._invoice(100.0, days_ago=1)
        self._invoice(40.0, partner=second, days_ago=20)
        partners = self.customer | second
        plan = partners._credit_exposure_plan_values()
        self.assertTrue(plan["in_force"])
        self.assertIn(self.company_data["default_account_receivable"].id, plan["receivable_account_ids"])
        self.assertNotIn(self.company_data["default_account_revenue"].id, plan["receivable_account_ids"])
        both = partners._get_credit_exposures()
        self.assertEqual(both[self.customer.id]["receivable"], 100.0)
        self.assertEqual(both[second.id]["overdue"], 40.0)
        self.env.flush_all()
        self.env.cr.execute("ALTER TABLE account_move_line DISABLE TRIGGER credit_control_exposure_total_ins")
        try:
            self.assertFalse(partners._credit_exposure_plan_values()["in_force"])
            self._invoice(5.0, partner=second, days_ago=1)
            live = partners._get_credit_exposures()
        finally:
            self.env.cr.execute(
                "ALTER TABLE account_move_line ENABLE ALWAYS TRIGGER credit_control_exposure_total_ins"
            )
        self.assertEqual(live[second.id]["receivable"], 45.0, "the totals are stale: the live sums count")
        self.assertEqual(live[self.customer.id], both[self.customer.id])

    def test_list_read_checks_the_access_rules(self):
        """Reading only the exposure fields (non-stored) applies the partner's record rules: a
        customer of another company is refused to a user of this company."""
        company_2 = self.setup_other_company()["company"]
        foreign = self.env["res.partner"].create(
            {"name": "Fremd AG", "is_company": True, "company_id": company_2.id}
        )
        self._invoice(100.0, days_ago=1)
        values = self.customer.with_user(self.collector).read(["credit_exposure", "credit_overdue_amount"])
        self.assertEqual(values[0]["credit_exposure"], 100.0)
        with self.assertRaises(AccessError):
            (self.customer | foreign).with_user(self.collector).read(["credit_exposure", "credit_available"])
