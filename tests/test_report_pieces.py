from datetime import date, timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .worklist_common import T, WorklistLedgerMixin


@tagged("post_install", "-at_install")
class TestReportPieces(WorklistLedgerMixin):
    """The report SQL is built from named pieces another module can extend (README "Extension
    points"): here a test-only extension of one piece each, as an ``_inherit`` would write it
    (``super()`` is the original method)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.small = cls.env["res.partner"].create({"name": "Klein KG", "is_company": True})
        cls.big_invoice = cls._wl_invoice(cls.customer, 1500.0, T - timedelta(days=60))
        cls.small_invoice = cls._wl_invoice(cls.small, 200.0, T - timedelta(days=60))
        # near its limitation date on T (31 December 2026)
        cls.old_invoice = cls._wl_invoice(cls.small, 80.0, date(2023, 3, 1))
        cls.Worklist = cls.env["credit.worklist"].with_context(worklist_date=fields.Date.to_string(T))
        cls.Cases = cls.env["credit.problem.case"].with_context(problem_date=fields.Date.to_string(T))

    def _extend(self, model, method, extension):
        """Replace ``model.method`` by ``extension(self, super_result)`` for this test."""
        cls = type(self.env[model])
        original = getattr(cls, method)
        self.patch(cls, method, lambda records, *args: extension(records, original(records, *args)))

    def test_worklist_condition_through_where(self):
        self.assertEqual(self.Worklist.search([]).partner_id, self.customer | self.small)
        # only customers with at least 1,000 overdue
        self._extend(
            "credit.worklist",
            "_where",
            lambda records, where: SQL("%s AND points.overdue_amount >= %s", where, 1000),
        )
        lines = self.Worklist.search([])
        self.assertEqual(lines.partner_id, self.customer)
        self.assertEqual(lines.overdue_amount, 1500.0)

    def test_worklist_open_items_through_where_open_items(self):
        # items of one invoice do not count (e.g. a journal another module keeps apart)
        self._extend(
            "credit.worklist",
            "_where_open_items",
            lambda records, where: SQL("%s AND l.move_id <> %s", where, self.big_invoice.id),
        )
        self.assertEqual(self.Worklist.search([]).partner_id, self.small)

    def test_aging_column_through_select_items(self):
        self.big_invoice.ref = "PO-4711"
        self._extend(
            "credit.aging.report",
            "_select_items",
            lambda records, select: SQL("%s, m.ref AS customer_reference", select),
        )
        report = self.env["credit.aging.report"].with_context(aging_date=fields.Date.to_string(T))
        rows = self.env.execute_query(
            SQL(
                "SELECT r.move_id, r.customer_reference, r.amount_open FROM (%s) r WHERE r.partner_id = %s",
                report._table_query,
                self.customer.id,
            )
        )
        self.assertEqual(rows, [(self.big_invoice.id, "PO-4711", 1500.0)])
        # the model's own fields are unchanged
        self.assertEqual(report._get_aging(T, [("partner_id", "=", self.customer.id)]).amount_open, 1500.0)

    def test_problem_case_types_through_case_queries(self):
        self.assertIn(
            "limitation", self.Cases.search([("partner_id", "=", self.small.id)]).mapped("case_type")
        )
        self._extend(
            "credit.problem.case",
            "_case_queries",
            lambda records, queries: {key: query for key, query in queries.items() if key != "limitation"},
        )
        self.Cases.invalidate_model()
        self.assertNotIn(
            "limitation", self.Cases.search([("partner_id", "=", self.small.id)]).mapped("case_type")
        )
