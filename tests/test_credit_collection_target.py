from datetime import date

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditCollectionTarget(CreditControlCommon):
    """Collected amounts by hand (company currency, no taxes, immediate terms):

    - customer (Credit Manager: the collector): invoice 2025-03-03 1,000; paid 600 on 2025-03-20
      and 200 on 2025-04-05; a credit note of 100 reconciled in March (not a collection)
    - customer 2 (Credit Manager: the manager): invoice 2025-03-10 500, paid in full 2025-03-31
    - customer 3 (no Credit Manager): invoice 2025-03-10 700, paid 2025-03-15 (nobody's)

    Collector March: target 1,000, collected 600 -> 60 %. Collector April: target 500,
    collected 200 -> 40 %. Manager March: target 400, collected 500 -> 125 %.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer2, cls.customer3 = cls.env["res.partner"].create(
            [{"name": "Beispiel AG", "is_company": True}, {"name": "Probe KG", "is_company": True}]
        )
        cls.customer.credit_manager_id = cls.collector
        cls.customer2.credit_manager_id = cls.credit_manager
        inv = cls._dated(cls.customer, 1000.0, date(2025, 3, 3))
        cls._pay(inv, amount=600.0, days_after_invoice=17)
        refund = cls._dated(cls.customer, 100.0, date(2025, 3, 25), move_type="out_refund")
        (refund | inv).line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()
        cls._pay(inv, amount=200.0, days_after_invoice=33)
        cls._pay(cls._dated(cls.customer2, 500.0, date(2025, 3, 10)), days_after_invoice=21)
        cls._pay(cls._dated(cls.customer3, 700.0, date(2025, 3, 10)), days_after_invoice=5)
        cls.targets = (
            cls.env["credit.collection.target"]
            .with_user(cls.credit_manager)
            .create(
                [
                    {"user_id": cls.collector.id, "month": date(2025, 3, 14), "target_amount": 1000.0},
                    {"user_id": cls.collector.id, "month": date(2025, 4, 1), "target_amount": 500.0},
                    {"user_id": cls.credit_manager.id, "month": date(2025, 3, 1), "target_amount": 400.0},
                ]
            )
        )

    @classmethod
    def _dated(cls, partner, amount, invoice_date, move_type="out_invoice"):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_payment_term_id": cls.immediate.id,
                "invoice_line_ids": [
                    Command.create({"name": "Goods", "price_unit": amount, "tax_ids": [Command.clear()]})
                ],
            }
        )
        move.action_post()
        return move

    def test_collected_and_achievement(self):
        march, april, manager = self.targets
        self.assertEqual(march.month, date(2025, 3, 1))
        self.assertEqual((march.collected_amount, march.achievement), (600.0, 60.0))
        self.assertEqual((april.collected_amount, april.achievement), (200.0, 40.0))
        self.assertEqual((manager.collected_amount, manager.achievement), (500.0, 125.0))

    def test_refresh_after_new_payment(self):
        march = self.targets[0]
        invoice = self._dated(self.customer, 300.0, date(2025, 3, 5))
        self._pay(invoice, days_after_invoice=10)
        self.assertEqual(march.collected_amount, 600.0)  # stored until refreshed
        with freeze_time("2025-04-15"):  # the menu refreshes the last 13 months
            action = self.env["credit.collection.target"].with_user(self.collector).action_open()
        self.assertEqual(action["res_model"], "credit.collection.target")
        self.assertEqual((march.collected_amount, march.achievement), (900.0, 90.0))
        self._pay(self._dated(self.customer, 100.0, date(2025, 3, 6)), days_after_invoice=1)
        march.with_user(self.collector).action_refresh()
        self.assertEqual(march.collected_amount, 1000.0)

    def test_bad_input(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["credit.collection.target"].create(
                {"user_id": self.collector.id, "month": date(2025, 5, 1), "target_amount": 0.0}
            )
        self.assertRegex(str(caught.exception), r"The collection target of .* must be a positive amount\.")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["credit.collection.target"].create(
                {"user_id": self.collector.id, "month": date(2025, 3, 31), "target_amount": 10.0}
            )

    def test_access(self):
        as_collector = self.env["credit.collection.target"].with_user(self.collector)
        self.assertEqual(as_collector.search([]), self.targets)
        with self.assertRaises(AccessError) as caught:
            as_collector.create(
                {"user_id": self.collector.id, "month": date(2025, 6, 1), "target_amount": 1.0}
            )
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to create 'Collection Target'",
        )
        with self.assertRaises(AccessError) as caught:
            self.targets[0].with_user(self.collector).target_amount = 1.0
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to modify 'Collection Target'",
        )
        with self.assertRaises(AccessError) as caught:
            self.env["credit.collection.target"].with_user(self.sales_user).search([])
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to access 'Collection Target'",
        )
        other = self.setup_other_company()["company"]
        self.credit_manager.company_ids |= other
        foreign = (
            self.env["credit.collection.target"]
            .with_user(self.credit_manager)
            .with_company(other)
            .create({"user_id": self.collector.id, "month": date(2025, 3, 1), "target_amount": 100.0})
        )
        self.assertEqual(foreign.company_id, other)
        self.assertEqual(foreign.collected_amount, 0.0)  # the customers' payments are in the first company
        self.assertNotIn(foreign, as_collector.search([]))
