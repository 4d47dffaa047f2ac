import json
from datetime import timedelta

import numpy as np

from odoo import Command
from odoo.tests import tagged

from ..lib import payment_prediction as pp
from ..models.credit_payment_model_open import OPEN_ITEM_COLUMNS
from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestPaymentPredictionOpenItems(CreditControlCommon):
    """The features of the open items (one aggregate per customer over its history) are those
    the time line of the training query gives an item open at the cut-off: on a history with
    more than five payments (two on one day), payment terms, dunning levels, a partial payment,
    broken promises and disputes before and after the cut-offs, invoices through a contact."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a level of the company's default scale (its days overdue: the feature)
        level = cls.env["credit.dunning.level"].search(
            [("company_id", "=", cls.company.id), ("days", ">", 0)], order="days desc", limit=1
        )
        cls.steady = cls.env["res.partner"].create({"name": "Steady Payer GmbH", "is_company": True})
        cls.mixed = cls.env["res.partner"].create({"name": "Mixed Payer AG", "is_company": True})
        contact = cls.env["res.partner"].create(
            {"name": "Buyer", "parent_id": cls.mixed.id, "type": "contact"}
        )
        cls.newcomer = cls.env["res.partner"].create({"name": "Newcomer OHG", "is_company": True})
        # (partner, amount, days ago, term, paid days after the invoice or None: open)
        plan = [
            (cls.steady, 100.0, 300, None, 5),
            (cls.steady, 250.0, 280, cls.term_30, 50),
            (cls.steady, 100.0, 260, None, 0),
            (cls.steady, 900.0, 240, None, 20),
            (cls.steady, 100.0, 225, None, 35),  # paid the same day as the next one
            (cls.steady, 400.0, 220, None, 40),
            (cls.steady, 100.0, 200, cls.term_30, 31),
            (cls.steady, 250.0, 150, None, 12),
            (cls.steady, 700.0, 80, None, 70),  # paid 10 days ago: open at the older cut-offs
            (cls.steady, 300.0, 40, cls.term_30, None),
            (cls.steady, 120.0, 5, None, None),
            (contact, 500.0, 200, None, 25),
            (cls.mixed, 80.0, 170, cls.term_30, 45),
            (contact, 640.0, 120, None, 2),
            (cls.mixed, 300.0, 70, None, 60),  # paid 10 days ago
            (contact, 260.0, 50, None, None),
            (cls.newcomer, 90.0, 20, None, None),
        ]
        cls.invoices = []
        for partner, amount, days_ago, term, paid_after in plan:
            invoice = cls._invoice(amount, partner=partner, days_ago=days_ago, term=term)
            if paid_after is not None:
                cls._pay(invoice, days_after_invoice=paid_after)
            cls.invoices.append(invoice)
        # a partial payment: the invoice stays open (no payment date)
        cls.partly = cls._invoice(1000.0, partner=cls.mixed, days_ago=100)
        cls._pay(cls.partly, amount=400.0, days_after_invoice=10)
        # dunned at the level before they were paid (the highest level of the history)
        cls.env.cr.execute(
            "UPDATE account_move SET credit_dunning_level_id = %s WHERE id IN %s",
            (level.id, (cls.invoices[4].id, cls.invoices[12].id)),
        )
        # broken promises and disputes, before and after the older cut-offs
        for partner, invoice, days_ago in ((cls.mixed, cls.invoices[15], 75), (cls.mixed, cls.partly, 20)):
            promise = cls.env["credit.promise"].create(
                {
                    "partner_id": partner.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": 50.0,
                    "date_promised": cls.today - timedelta(days=days_ago + 5),
                    "state": "broken",
                }
            )
            cls.env.cr.execute(
                "UPDATE credit_promise SET date_closed = %s WHERE id = %s",
                (cls.today - timedelta(days=days_ago), promise.id),
            )
        for partner, invoice, days_ago in (
            (contact, cls.invoices[15], 45),
            (cls.newcomer, cls.invoices[16], 3),
            (cls.steady, cls.invoices[9], 35),
        ):
            dispute = cls.env["credit.dispute"].create(
                {"partner_id": partner.id, "move_ids": [Command.set(invoice.ids)], "amount": 10.0}
            )
            cls.env.cr.execute(
                "UPDATE credit_dispute SET create_date = %s WHERE id = %s",
                (cls.today - timedelta(days=days_ago), dispute.id),
            )
        cls.env.invalidate_all()
        cls.model = cls.env["credit.payment.model"].with_company(cls.company)

    def _cutoffs(self):
        return [self.today - timedelta(days=days) for days in (0, 30, 60, 190)]

    def test_same_features_as_the_time_line(self):
        checked = {"trend": 0, "dunning": 0, "broken": 0, "disputes": 0}
        open_then = set()
        for cutoff in self._cutoffs():
            every = {row["id"]: row for row in self.model._feature_rows(cutoff) if not row["is_train"]}
            only = {row["id"]: row for row in self.model._open_item_rows(cutoff)}
            self.assertEqual(set(only), set(every), cutoff)
            for move_id, row in only.items():
                self.assertEqual(set(row), set(OPEN_ITEM_COLUMNS))
                self.assertEqual(row, {name: every[move_id][name] for name in row}, (cutoff, move_id))
                checked["trend"] += row["hist_trend"] is not None
                checked["dunning"] += bool(row["dunning_days"])
                checked["broken"] += bool(row["broken_promises"])
                checked["disputes"] += bool(row["disputes"])
            open_then.update(only)
        # the history exercised every figure; invoices paid since an older cut-off were open then
        self.assertTrue(all(checked.values()), checked)
        self.assertIn(self.invoices[8].id, open_then)
        self.assertIn(self.invoices[14].id, open_then)
        today = {row["id"]: row for row in self.model._open_item_rows(self.today)}
        self.assertNotIn(self.invoices[8].id, today)
        self.assertIn(self.partly.id, today)
        self.assertEqual(today[self.partly.id]["broken_promises"], 2)
        self.assertEqual(today[self.invoices[16].id]["hist_count"], 0)
        self.assertEqual(today[self.invoices[16].id]["disputes"], 1)

    def test_columns_and_matrix(self):
        columns = self.model._open_item_columns(self.today)
        rows = self.model._open_item_rows(self.today)
        self.assertEqual(columns["id"], sorted(columns["id"]))
        self.assertEqual(columns["id"], [row["id"] for row in rows])
        self.assertEqual(set(OPEN_ITEM_COLUMNS) | {"features", "features_json"}, set(columns))
        # the JSON of the features: the same numbers (null for a missing one)
        np.testing.assert_array_equal(
            pp.matrix([json.loads(text) for text in columns["features_json"]]), columns["features"]
        )
        # the feature matrix is pp.matrix of the rows (NaN for a missing value)
        np.testing.assert_array_equal(columns["features"], pp.matrix(rows))
        self.assertEqual(columns["features"].shape, (len(rows), len(pp.FEATURES)))
        # nothing open: empty columns, an empty matrix of the right width
        empty = self.model._open_item_columns(self.today - timedelta(days=400))
        self.assertEqual(empty["id"], [])
        self.assertEqual(empty["features"].shape, (0, len(pp.FEATURES)))
        self.assertEqual(self.model._store_predictions(empty, None, self.today), {"model": 0, "rule": 0})

    def test_stored_rule_predictions(self):
        # no model: every open item on the rule, stored as the rule's figures
        counts = self.model._predict_open_items(None, self.today)
        rows = self.model._open_item_rows(self.today)
        self.assertEqual(counts, {"model": 0, "rule": len(rows)})
        predictions = self.env["credit.payment.prediction"].search([("company_id", "=", self.company.id)])
        by_move = {prediction.move_id.id: prediction for prediction in predictions}
        self.assertEqual(set(by_move), {row["id"] for row in rows})
        for row in rows:
            prediction = by_move[row["id"]]
            self.assertEqual(prediction.partner_id.id, row["partner_id"])
            self.assertEqual(prediction.reasons, {"count": row["hist_count"], "rule": row["rule_late"]})
            overdue = (self.today - row["date_due"]).days
            rule = max(round(row["rule_late"]), max(overdue, 0))
            self.assertEqual(prediction.date, row["date_due"] + timedelta(days=rule))
            low = min(max(overdue, 0), rule)
            self.assertEqual(prediction.date_low, row["date_due"] + timedelta(days=low))
            self.assertEqual(
                prediction.date_high, row["date_due"] + timedelta(days=max(int(row["max_late"]), rule))
            )
            expected = 1.0 if overdue > pp.LATE_DAYS else row["late30_share"]
            self.assertAlmostEqual(prediction.late_probability, expected)
            self.assertEqual(prediction.source, "rule")
            self.assertEqual(prediction.predicted_on, self.today)
