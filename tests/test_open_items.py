from datetime import timedelta

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.credit_control.lib.open_items import (
    INDEX_OPEN_ITEM,
    INDEX_UNRECONCILED,
    open_receivable_domain,
    open_receivable_where,
)

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestOpenReceivableBuilder(CreditControlCommon):
    """One definition of "open receivable items of customers": the domain and the SQL condition
    (for either partial index, joined account or not) select the same journal items."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.partner"].create({"name": "Andere AG", "is_company": True})
        cls.open_invoice = cls._invoice(100.0, partner=cls.contact, days_ago=40)
        cls.partial = cls._invoice(200.0, days_ago=10)
        cls._pay(cls.partial, amount=50.0)
        cls.paid = cls._invoice(300.0, days_ago=20)
        cls._pay(cls.paid, days_after_invoice=10)
        cls.draft = cls._invoice(400.0, post=False)
        cls.credit_note = cls._invoice(30.0, move_type="out_refund")
        cls.payment = cls._unreconciled_payment(20.0)
        cls.other_invoice = cls._invoice(500.0, partner=cls.other)

    def _receivable(self, *moves):
        return sum(moves, self.env["account.move"]).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )

    def _sql_ids(self, join_account=False, **kwargs):
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """SELECT l.id FROM account_move_line l
                     JOIN res_partner p ON p.id = l.partner_id
                     JOIN account_account a ON a.id = l.account_id
                    WHERE %s""",
                open_receivable_where(account="a" if join_account else None, **kwargs),
            )
        )
        return {row[0] for row in rows}

    def test_domain_and_sql_select_the_same_items(self):
        partners = self.customer | self.other
        expected = self._receivable(self.open_invoice, self.partial, self.credit_note, self.payment)
        domain = open_receivable_domain(self.company, self.customer)
        self.assertEqual(self.env["account.move.line"].search(domain), expected)
        self.assertEqual(
            self.env["account.move.line"].search(open_receivable_domain(self.company, partners)),
            expected | self._receivable(self.other_invoice),
        )
        for index in (INDEX_OPEN_ITEM, INDEX_UNRECONCILED):
            for join_account in (False, True):
                with self.subTest(index=index, join_account=join_account):
                    self.assertEqual(
                        self._sql_ids(
                            join_account,
                            company_id=self.company.id,
                            partner_ids=self.customer.ids,
                            index=index,
                        ),
                        set(expected.ids),
                    )

    def test_sign_and_due_date(self):
        debits = self._receivable(self.open_invoice, self.partial)
        credits = self._receivable(self.credit_note, self.payment)
        for sign, expected in (("debit", debits), ("credit", credits)):
            with self.subTest(sign=sign):
                domain = open_receivable_domain(self.company, self.customer, sign=sign)
                self.assertEqual(self.env["account.move.line"].search(domain), expected)
                self.assertEqual(
                    self._sql_ids(company_id=self.company.id, partner_ids=self.customer.ids, sign=sign),
                    set(expected.ids),
                )
        overdue = self.today - timedelta(days=30)
        self.assertEqual(
            self.env["account.move.line"].search(
                open_receivable_domain(self.company, self.customer, due_before=overdue)
            ),
            self._receivable(self.open_invoice),
        )
        self.assertEqual(
            self._sql_ids(company_id=self.company.id, partner_ids=self.customer.ids, due_before=overdue),
            set(self._receivable(self.open_invoice).ids),
        )

    def test_open_as_of_a_date(self):
        # the paid invoice was open before its payment date, the partly paid one too
        before = self.today - timedelta(days=30)
        during = self.today - timedelta(days=15)
        ids = self._sql_ids(company_id=self.company.id, partner_ids=self.customer.ids, as_of=during)
        self.assertIn(self._receivable(self.paid).id, ids)
        self.assertIn(self._receivable(self.open_invoice).id, ids)
        self.assertNotIn(self._receivable(self.partial).id, ids, "dated after the date")
        ids = self._sql_ids(company_id=self.company.id, partner_ids=self.customer.ids, as_of=before)
        self.assertEqual(ids, set(self._receivable(self.open_invoice).ids))

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "sign must be 'debit' or 'credit'"):
            open_receivable_domain(self.company, sign="positive")
        with self.assertRaisesRegex(ValueError, "unknown open-item index"):
            open_receivable_where(index="btree")
