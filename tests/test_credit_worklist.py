from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tools import format_amount

from odoo.addons.credit_control.reports.credit_worklist import CreditWorklist

from .worklist_common import T, WorklistLedgerMixin


@tagged("post_install", "-at_install")
class TestCreditWorklist(WorklistLedgerMixin):
    """Ranking on a small crafted ledger (points per factor asserted), the promise recorded from
    a line, access and the query count."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Worklist = cls.env["credit.worklist"].with_context(worklist_date=fields.Date.to_string(T))
        cls.rating_c = cls.env["credit.rating"].create(
            {"code": "X", "name": "Test weak", "score_min": 0, "score_max": 100, "sequence": 99}
        )
        names = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Phi", "Calm"]
        cls.p = {
            name: cls.env["res.partner"].create({"name": "%s KG" % name, "is_company": True})
            for name in names
        }
        # Alpha: 3 invoices of 1,000 due 45 days ago; an activity on one of them due yesterday
        cls.alpha_invoices = cls.env["account.move"]
        for _i in range(3):
            cls.alpha_invoices |= cls._wl_invoice(cls.p["Alpha"], 1000.0, T - timedelta(days=45))
        cls.env["mail.activity"].create(
            {
                "res_model_id": cls.env["ir.model"]._get_id("account.move"),
                "res_id": cls.alpha_invoices[0].id,
                "activity_type_id": cls.env.ref("mail.mail_activity_data_todo").id,
                "summary": "Call back",
                "date_deadline": T - timedelta(days=1),
                "user_id": cls.collector.id,
            }
        )
        # Beta: 500 overdue 10 days, rated (score 20), a promise broken yesterday
        beta_invoice = cls._wl_invoice(cls.p["Beta"], 500.0, T - timedelta(days=10))
        cls.p["Beta"].write({"credit_rating_id": cls.rating_c.id, "credit_score": 20})
        cls._wl_promise(
            cls.p["Beta"], beta_invoice, 500.0, T - timedelta(days=5), "broken", T - timedelta(days=1)
        )
        # Gamma: 20,000 overdue 100 days, and 5,000 more under an open dispute (not counted)
        cls._wl_invoice(cls.p["Gamma"], 20000.0, T - timedelta(days=100))
        disputed = cls._wl_invoice(cls.p["Gamma"], 5000.0, T - timedelta(days=100))
        cls.env["credit.dispute"].create(
            {
                "partner_id": cls.p["Gamma"].id,
                "move_ids": [Command.set(disputed.ids)],
                "amount": 5000.0,
                "reason": "quality",
            }
        )
        # Delta: 100 from 1 March 2023, time-barred at the end of 2026 (within 120 days of T)
        cls._wl_invoice(cls.p["Delta"], 100.0, date(2023, 3, 1))
        # Epsilon: nothing overdue; a promise due today and a task due two days ago
        eps_invoice = cls._wl_invoice(cls.p["Epsilon"], 800.0, T - timedelta(days=5), term=cls.term_30)
        cls._wl_promise(cls.p["Epsilon"], eps_invoice, 300.0, T, "open")
        cls.env["credit.task"].create(
            {
                "name": "Send the delivery notes",
                "task_type": "documents",
                "partner_id": cls.p["Epsilon"].id,
                "date_deadline": T - timedelta(days=2),
            }
        )
        # Phi: overdue, but under an open promise for next week: nothing to do today
        phi_invoice = cls._wl_invoice(cls.p["Phi"], 2000.0, T - timedelta(days=20))
        cls._wl_promise(cls.p["Phi"], phi_invoice, 2000.0, T + timedelta(days=5), "open")
        # Calm: an invoice not due yet
        cls._wl_invoice(cls.p["Calm"], 700.0, T - timedelta(days=5), term=cls.term_30)

    def _lines(self, worklist=None):
        worklist = self.Worklist if worklist is None else worklist
        lines = worklist.search([("partner_id", "in", [p.id for p in self.p.values()])])
        return {line.partner_id.name.split()[0]: line for line in lines}, lines

    def test_ranking_and_points(self):
        by_name, lines = self._lines()
        self.assertEqual(
            [line.partner_id.name.split()[0] for line in lines],
            ["Gamma", "Delta", "Alpha", "Beta", "Epsilon"],
            "Phi (promised for next week) and Calm (nothing due) are not on today's list",
        )
        points = {
            name: (
                line.points_overdue,
                line.points_days,
                line.points_rating,
                line.points_promise_due,
                line.points_promise_broken,
                line.points_followup,
                line.points_limitation,
                line.priority,
            )
            for name, line in by_name.items()
        }
        # overdue, days, rating, promise due, promise broken, follow-ups, limitation, total
        self.assertEqual(points["Gamma"], (40, 30, 10, 0, 0, 0, 0, 80))
        self.assertEqual(points["Delta"], (0, 30, 10, 0, 0, 0, 30, 70))
        self.assertEqual(points["Alpha"], (12, 15, 10, 0, 0, 10, 0, 47))
        self.assertEqual(points["Beta"], (2, 3, 16, 0, 25, 0, 0, 46))
        self.assertEqual(points["Epsilon"], (0, 0, 10, 15, 0, 10, 0, 35))

        gamma = by_name["Gamma"]
        self.assertEqual(gamma.overdue_amount, 20000.0)
        self.assertEqual(gamma.disputed_amount, 5000.0)
        self.assertEqual(gamma.open_amount, 25000.0)
        delta = by_name["Delta"]
        self.assertEqual(delta.date_limitation, date(2026, 12, 31))
        self.assertEqual(delta.limitation_count, 1)
        alpha = by_name["Alpha"]
        self.assertEqual((alpha.overdue_count, alpha.days_overdue, alpha.activity_due_count), (3, 45, 1))

        self.assertIn("3 invoices 45 days overdue", alpha.reasons)
        self.assertIn("Promise broken yesterday", by_name["Beta"].reasons)
        self.assertIn("Risk rating X", by_name["Beta"].reasons)
        self.assertIn("due today", by_name["Epsilon"].reasons)
        self.assertIn("Time-barred on 12/31/2026: 1 open items", delta.reasons)
        self.assertIn("Follow-ups due since", alpha.reasons)
        self.assertIn("disputed (not counted)", gamma.reasons)

    def test_limitation_horizon_and_broken_promise_window(self):
        # 40 days later the broken promise of Beta is older than 30 days: no more points for it
        later = self.Worklist.with_context(worklist_date=fields.Date.to_string(T + timedelta(days=40)))
        by_name, _lines = self._lines(later)
        self.assertEqual(by_name["Beta"].points_promise_broken, 0)
        # 2 December 2025 the limitation of Delta (end of 2026) was more than 120 days away
        earlier = self.Worklist.with_context(worklist_date="2025-12-02")
        by_name, _lines = self._lines(earlier)
        self.assertEqual((by_name["Delta"].points_limitation, by_name["Delta"].date_limitation), (0, False))

    def test_items_handed_over_to_agency_are_not_chased(self):
        agency = self.env["res.partner"].create({"name": "Inkasso Nord GmbH", "is_company": True})
        handover = self.env["credit.agency.handover"].create(
            {
                "partner_id": self.p["Alpha"].id,
                "agency_id": agency.id,
                "move_ids": [Command.set(self.alpha_invoices[:2].ids)],
            }
        )
        handover.flush_recordset()
        self.env.cr.execute(
            "UPDATE credit_agency_handover SET state = 'handed_over' WHERE id = %s", (handover.id,)
        )
        by_name, _lines = self._lines()
        self.assertEqual((by_name["Alpha"].overdue_amount, by_name["Alpha"].overdue_count), (1000.0, 1))

    def test_line_shows_items_promises_disputes_tasks(self):
        by_name, _lines = self._lines()
        gamma, eps = by_name["Gamma"], by_name["Epsilon"]
        self.assertEqual(len(gamma.move_line_ids), 2)
        self.assertEqual(len(gamma.dispute_ids), 1)
        self.assertEqual(len(eps.promise_ids), 1)
        self.assertEqual(eps.task_ids.name, "Send the delivery notes")
        action = gamma.action_open_partner()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", self.p["Gamma"].id))

    def test_record_promise_from_line(self):
        by_name, _lines = self._lines()
        with freeze_time(T):
            action = by_name["Alpha"].with_user(self.collector).action_record_promise()
            self.assertEqual(action["res_model"], "credit.worklist.promise")
            self.assertEqual(sorted(action["context"]["default_move_ids"]), sorted(self.alpha_invoices.ids))
            self.assertEqual(action["context"]["default_amount"], 3000.0)
            Wizard = (
                self.env["credit.worklist.promise"]
                .with_user(self.collector)
                .with_context(**action["context"])
            )
            # bad input: a date in the past, more than is open; nothing is written
            for vals, message in (
                ({"date_promised": T - timedelta(days=1)}, "in the past"),
                ({"amount": 3000.01}, "more than is open"),
                ({"amount": 0.0}, "must be positive"),
            ):
                with self.assertRaisesRegex(UserError, message):
                    Wizard.create(dict({"date_promised": T + timedelta(days=3)}, **vals)).action_confirm()
            self.assertFalse(self.env["credit.promise"].search([("partner_id", "=", self.p["Alpha"].id)]))
            Wizard.create({"date_promised": T + timedelta(days=3), "amount": 2500.0}).action_confirm()
        promise = self.env["credit.promise"].search([("partner_id", "=", self.p["Alpha"].id)])
        self.assertEqual(
            (promise.amount, promise.date_promised, promise.user_id, promise.state, promise.move_ids),
            (2500.0, T + timedelta(days=3), self.collector, "open", self.alpha_invoices),
        )
        # promised for later: Alpha's items no longer count, only the due activity remains
        by_name, _lines = self._lines()
        self.assertEqual(by_name["Alpha"].overdue_amount, 0.0)
        self.assertEqual(by_name["Alpha"].promised_amount, 3000.0)
        self.assertEqual(by_name["Alpha"].priority, 10 + 10)

    def test_promise_of_other_customer_refused(self):
        with freeze_time(T):
            wizard = self.env["credit.worklist.promise"].create(
                {
                    "partner_id": self.p["Alpha"].id,
                    "move_ids": [Command.set(self.p["Gamma"].invoice_ids.ids)],
                    "amount": 10.0,
                    "date_promised": T,
                }
            )
            with self.assertRaisesRegex(UserError, "its own posted invoices"):
                wizard.action_confirm()

    def test_access(self):
        with self.assertRaises(AccessError) as caught:
            self.Worklist.with_user(self.sales_user).search_read([], ["priority"])
        self.assertRegex(str(caught.exception), r"You are not allowed to access 'Collector Worklist'")
        collector_lines = self.Worklist.with_user(self.collector).search([])
        self.assertIn(self.p["Gamma"], collector_lines.partner_id)
        manager_lines = self.Worklist.with_user(self.credit_manager).search([])
        self.assertEqual(manager_lines.partner_id, collector_lines.partner_id)

    def test_current_company_only(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        other = self.env["res.partner"].create({"name": "Omega SARL", "is_company": True})
        self._wl_invoice(other, 9000.0, T - timedelta(days=60), company=company_2)
        self.collector.company_ids |= company_2
        lines = self.Worklist.with_user(self.collector).search([])
        self.assertNotIn(other, lines.partner_id)
        lines_2 = self.Worklist.with_user(self.collector).with_company(company_2).search([])
        self.assertEqual(lines_2.partner_id, other)
        self.assertEqual(lines_2.company_id, company_2)

    def test_query_count_constant(self):
        fnames = ["partner_id", "priority", "reasons", "overdue_amount", "rating_id", "collector_id"]

        def count_queries():
            self.env.invalidate_all()
            return self._count_queries(lambda: self.Worklist.search([]).read(fnames))

        def add_customers(count):
            for i in range(count):
                partner = self.env["res.partner"].create({"name": "Bulk %s" % i, "is_company": True})
                partner.write({"credit_rating_id": self.rating_c.id, "credit_score": 50})
                self._wl_invoice(partner, 300.0 + i, T - timedelta(days=12))

        # 5 customers of the fixture + 2, then + 20
        add_customers(2)
        self.assertEqual(len(self.Worklist.search([])), 7)
        count_queries()  # warm-up: ormcaches (rates, languages) are filled once
        small = count_queries()
        add_customers(18)
        self.assertEqual(len(self.Worklist.search([])), 25)
        self.assertEqual(count_queries(), small)
        self.assertLessEqual(small, 9)

    def test_list_as_opened_runs_the_view_once(self):  # pylint: disable=missing-return
        """web_search_read (the list view opening) gives what the standard method gives, from one
        run of the view's query instead of two (page, then count)."""
        spec = {
            "priority": {},
            "partner_id": {"fields": {"display_name": {}}},
            "reasons": {},
            "overdue_amount": {},
            "collector_id": {"fields": {"display_name": {}}},
        }
        order = "priority desc, overdue_amount desc, partner_id"
        standard = super(CreditWorklist, self.Worklist).web_search_read
        for offset, limit, count_limit in (
            (0, 2, 10001),
            (2, 2, 10001),
            (4, 2, 10001),
            (0, 80, 10001),
            (0, 2, 3),
        ):
            self.assertEqual(
                self.Worklist.web_search_read([], spec, offset, limit, order, count_limit),
                standard([], spec, offset, limit, order, count_limit),
                (offset, limit, count_limit),
            )
        queries, execute = [], Cursor.execute

        def logged_execute(cr, query, params=None, log_exceptions=True):
            queries.append(str(getattr(query, "code", query)))
            return execute(cr, query, params, log_exceptions)

        self.env.invalidate_all()
        with patch.object(Cursor, "execute", logged_execute):
            result = self.Worklist.web_search_read([], spec, 0, 2, order, 10001)
        self.assertEqual((result["length"], len(result["records"])), (5, 2))
        self.assertEqual(
            sum("WITH credits AS" in query for query in queries), 1, "the view's query runs once"
        )

    def test_amount_formatter_is_format_amount(self):
        usd = self.env.ref("base.USD")
        self.env["res.lang"]._activate_lang("de_DE")
        values = (0.0, 0.004, 1.5, -1.5, 999.995, 1234.5, -1234567.891, 12345678.9)
        for lang in ("en_US", "de_DE"):
            worklist = self.Worklist.with_context(lang=lang)
            for currency in (self.company.currency_id, usd):
                money = worklist._amount_formatter(currency)
                for value in values:
                    self.assertEqual(
                        money(value),
                        format_amount(worklist.env, value, currency),
                        (lang, currency.name, value),
                    )


@tagged("post_install", "-at_install")
class TestCreditWorklistOpenCredits(WorklistLedgerMixin):
    """Open credits (unallocated payments, credit notes) are money already received: netted
    against the customer's oldest items before the overdue amount and the days count."""

    def test_invoice_offset_by_equal_credit_is_not_on_the_list(self):
        worklist = self.env["credit.worklist"].with_context(worklist_date=fields.Date.to_string(T))
        zero = self.env["res.partner"].create({"name": "Null Saldo GmbH", "is_company": True})
        self._wl_invoice(zero, 5000.0, T - timedelta(days=60))
        self._unreconciled_payment(5000.0, partner=zero)
        minus = self.env["res.partner"].create({"name": "Guthaben GmbH", "is_company": True})
        self._wl_invoice(minus, 1000.0, T - timedelta(days=60))
        self._invoice(1500.0, partner=minus, move_type="out_refund", days_ago=1)
        partial = self.env["res.partner"].create({"name": "Teils GmbH", "is_company": True})
        self._wl_invoice(partial, 1000.0, T - timedelta(days=90))  # oldest: fully offset
        self._wl_invoice(partial, 2000.0, T - timedelta(days=30))  # 500 of it offset
        self._unreconciled_payment(1500.0, partner=partial)
        lines = worklist.search([("partner_id", "in", (zero | minus | partial).ids)])
        self.assertEqual(lines.partner_id, partial, "net balance 0 or less: not on the worklist")
        self.assertEqual(lines.overdue_amount, 1500.0)
        self.assertEqual(lines.overdue_count, 1)
        self.assertEqual(lines.days_overdue, 30, "the oldest invoice is offset by the credit")
        self.assertEqual(lines.credit_amount, 1500.0)
        self.assertEqual(lines.open_amount, 1500.0)
        self.assertEqual(lines.points_overdue, 6)  # 1,500 / 250
        self.assertEqual(lines.points_days, 10)  # 30 / 3
        self.assertIn("1 invoice 30 days overdue", lines.reasons)
        self.assertIn("open credits offset against the oldest invoices", lines.reasons)
