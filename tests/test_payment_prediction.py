from datetime import timedelta

import numpy as np

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..lib import payment_prediction as pp
from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestPaymentPrediction(CreditControlCommon):
    """A customer that pays large invoices 35 days late and small ones on time: the model
    learns the amount; its predictions are explained and stored on the open invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.payer = cls.env["res.partner"].create({"name": "Amount Payer AG", "is_company": True})
        # one large invoice for two small ones: the usual (median) amount is the small one; as
        # few as train a model (MIN_TRAINING_SAMPLES): each invoice and payment costs test time
        for i in range(pp.MIN_TRAINING_SAMPLES):
            large = i % 3 == 0
            invoice = cls._invoice(10000.0 if large else 100.0, partner=cls.payer, days_ago=440 - 9 * i)
            cls._pay(invoice, days_after_invoice=35 if large else 0)
        cls.open_large = cls._invoice(10000.0, partner=cls.payer, days_ago=1)
        # not yet due (an overdue item is predicted given that it is still unpaid)
        cls.open_small = cls._invoice(100.0, partner=cls.payer, days_ago=1, term=cls.term_30)
        cls.newcomer = cls.env["res.partner"].create({"name": "Newcomer KG", "is_company": True})
        cls.open_new = cls._invoice(500.0, partner=cls.newcomer, days_ago=0)
        cls.model = cls.env["credit.payment.model"]._get_for_company(cls.company)
        cls.model.with_company(cls.company)._train_and_predict()

    def test_large_invoice_predicted_later_than_small(self):
        self.assertEqual(self.model.state, "trained")
        self.assertEqual(self.model.sample_count, pp.MIN_TRAINING_SAMPLES)
        self.assertEqual(self.open_large.credit_prediction_source, "model")
        self.assertEqual(self.open_small.credit_prediction_source, "model")
        large_late = (self.open_large.credit_predicted_date - self.open_large.invoice_date_due).days
        small_late = (self.open_small.credit_predicted_date - self.open_small.invoice_date_due).days
        self.assertGreaterEqual(large_late, 20, self.open_large.credit_prediction_explanation)
        self.assertLessEqual(small_late, 10, self.open_small.credit_prediction_explanation)
        self.assertLessEqual(self.open_large.credit_predicted_date_low, self.open_large.credit_predicted_date)
        self.assertGreaterEqual(
            self.open_large.credit_predicted_date_high, self.open_large.credit_predicted_date
        )
        self.assertGreater(
            self.open_large.credit_predicted_late_probability,
            self.open_small.credit_predicted_late_probability,
        )
        self.assertIn("the usual amount", self.open_large.credit_prediction_explanation)

    def test_contributions_sum_to_prediction(self):
        boosters = self.model._load_boosters()
        rows = [row for row in self.model._feature_rows(self.today) if not row["is_train"]]
        features = pp.matrix(rows)
        result = pp.predict(boosters, features)
        contrib = pp.contributions(boosters, features)
        self.assertEqual(contrib.shape, (len(rows), len(pp.FEATURES) + 1))
        np.testing.assert_allclose(contrib.sum(axis=1), result["raw_q50"], atol=1e-6)
        # deterministic: the same ledger gives the same boosters
        train = [row for row in self.model._feature_rows(self.today) if row["is_train"]]
        again = pp.load(pp.train(pp.matrix(train), [row["days_late"] for row in train]))
        np.testing.assert_allclose(pp.predict(again, features)["q50"], result["q50"])

    def test_explanation_from_stored_features(self):
        # the prediction keeps the features it was made from and the model file; the
        # explanation's contributions are computed from them when read: the same figures as
        # the contributions of the item's feature row, and they sum (with the base) to the
        # median prediction
        reasons = self.open_large.credit_prediction_reasons
        self.assertEqual(reasons["model"], self.model.attachment_id.id)
        row = next(r for r in self.model._open_item_rows(self.today) if r["id"] == self.open_large.id)
        features = pp.matrix([row])
        np.testing.assert_array_equal(pp.matrix([reasons["features"]]), features)
        contrib = pp.contributions(self.model._load_boosters(), features)[0]
        data = self.env["credit.payment.model"]._explained_reasons([dict(reasons)])[0]
        self.assertEqual(data["base"], round(contrib[-1]))
        expected = pp.top_contributions_matrix(features, contrib[None, :])[0]
        self.assertEqual(
            [[name, days] for name, _value, days in data["reasons"]],
            [[pp.FEATURES[i], days] for i, days in expected],
        )
        self.assertTrue(data["reasons"])
        self.assertNotIn("reasons", reasons)  # the stored value is left as it is
        for name, _value, days in data["reasons"]:
            self.assertIn("%+d days" % days, self.open_large.credit_prediction_explanation, name)
        # a prediction of a model file that is gone: no reasons, no error
        gone = self.env["credit.payment.model"]._explained_reasons([dict(reasons, model=0)])[0]
        self.assertNotIn("reasons", gone)
        # a model file whose expected date reads the first 40 trees: the explanation reads them too
        train = [r for r in self.model._feature_rows(self.today) if r["is_train"]]
        strings = pp.train(pp.matrix(train), [r["days_late"] for r in train], median_rounds=40)
        first40 = pp.contributions(pp.load(strings), features)
        self.assertGreater(
            np.max(np.abs(first40 - pp.contributions(pp.load(dict(strings, median_rounds=120)), features))),
            0.01,
        )
        file_id = self.model._store_boosters(strings).id
        data = self.env["credit.payment.model"]._explained_reasons([dict(reasons, model=file_id)])[0]
        self.assertEqual(data["base"], round(first40[0][-1]))
        self.assertEqual(
            [[name, days] for name, _value, days in data["reasons"]],
            [[pp.FEATURES[i], days] for i, days in pp.top_contributions_matrix(features, first40)[0]],
        )

    def test_history_does_not_leak(self):
        rows = {row["id"]: row for row in self.model._feature_rows(self.today)}
        first_paid = min((r for r in rows.values() if r["is_train"]), key=lambda r: r["invoice_date"])
        self.assertEqual(first_paid["hist_count"], 0)
        self.assertIsNone(first_paid["hist_mean_late"])
        self.assertEqual(rows[self.open_large.id]["hist_count"], pp.MIN_TRAINING_SAMPLES)
        # the 5th invoice (small, issued 36 days after the 1st): the 1st (large, paid 30 days
        # after its issue), the 2nd and 3rd (small, paid at once) are known; the 4th (large) is not
        issued = sorted(
            (r for r in rows.values() if r["partner_id"] == self.payer.id), key=lambda r: r["invoice_date"]
        )
        self.assertEqual(issued[4]["hist_count"], 3)
        self.assertAlmostEqual(issued[4]["hist_mean_late"], 35.0 / 3)
        self.assertAlmostEqual(issued[4]["hist_median_late"], 0.0)
        self.assertAlmostEqual(issued[4]["late_share"], 1 / 3)
        self.assertEqual(issued[4]["relationship_days"], 36)

    def test_feature_queries_do_not_grow_with_items(self):
        model = self.env["credit.payment.model"]
        boosters = self.model._load_boosters()

        def counts():
            return (
                self._count_queries(lambda: model._feature_rows(self.today)),
                self._count_queries(lambda: model._open_item_columns(self.today)),
                self._count_queries(lambda: self.model._predict_open_items(boosters, self.today)),
            )

        counts()  # caches warm (the company's record)
        few = counts()
        # more customers, paid and open items, a broken promise and a dispute (few: each
        # invoice and payment costs test time, the counts compare 3 open items with 5)
        for i in range(2):
            partner = self.env["res.partner"].create({"name": f"More Items {i} GmbH", "is_company": True})
            self._pay(self._invoice(300.0 + i, partner=partner, days_ago=60), days_after_invoice=20)
            invoice = self._invoice(400.0 + i, partner=partner, days_ago=10 + 30 * i)
        common = {"partner_id": partner.id, "move_ids": [Command.set(invoice.ids)]}
        self.env["credit.promise"].create(
            dict(common, amount=100.0, date_promised=self.today - timedelta(days=30), state="broken")
        )
        self.env["credit.dispute"].create(dict(common, amount=10.0))
        self.assertEqual(counts(), few)
        # the features: one query each (and the planner setting reset), whatever the number of items
        self.assertEqual(few[:2], (2, 2))
        self.assertEqual(len(model._open_item_columns(self.today)["id"]), 3 + 2)

    def test_second_run_replaces_predictions(self):
        expected = self.open_large.credit_predicted_date
        self.env.cr.execute(
            "UPDATE credit_payment_prediction SET date = date + 5 WHERE move_id = %s",
            [self.open_large.id],
        )
        self.env["credit.payment.prediction"].invalidate_model()
        self.open_large.invalidate_recordset()
        self.assertEqual(self.open_large.credit_predicted_date, expected + timedelta(days=5))
        counts = self.model._predict_open_items(self.model._load_boosters(), self.today)
        self.assertEqual(counts, {"model": 2, "rule": 1})
        self.assertEqual(self.open_large.credit_predicted_date, expected)
        self.assertEqual(self.open_large.credit_predicted_on, self.today)

    def test_store_one_row_per_open_item(self):
        predictions = self.env["credit.payment.prediction"].search([("company_id", "=", self.company.id)])
        open_moves = self.env["account.move"].search(
            [
                ("company_id", "=", self.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        self.assertEqual(len(predictions), len(predictions.move_id))
        self.assertEqual(predictions.move_id, open_moves)
        self.assertEqual(predictions.mapped("partner_id"), open_moves.commercial_partner_id)
        # paid since the last run: its prediction goes with the next run, none for paid ones
        self._pay(self.open_small, days_after_invoice=1)
        self.model._predict_open_items(self.model._load_boosters(), self.today)
        predictions = self.env["credit.payment.prediction"].search([("company_id", "=", self.company.id)])
        self.assertEqual(predictions.move_id, open_moves - self.open_small)
        self.assertFalse(self.open_small.credit_prediction_source)
        self.assertFalse(self.open_small.credit_predicted_date)
        # searchable on the invoice, "no prediction" included
        Move = self.env["account.move"]
        self.assertIn(self.open_large, Move.search([("credit_prediction_source", "=", "model")]))
        self.assertIn(self.open_small, Move.search([("credit_prediction_source", "=", False)]))
        self.assertNotIn(self.open_large, Move.search([("credit_prediction_source", "!=", "model")]))
        self.assertIn(
            self.open_large,
            Move.search([("credit_predicted_date", ">=", self.open_large.credit_predicted_date)]),
        )

    def test_prediction_records_protected(self):
        Prediction = self.env["credit.payment.prediction"]
        prediction = Prediction.search([("move_id", "=", self.open_large.id)])
        self.assertTrue(prediction)
        # the table itself is the credit team's; everybody else reads a prediction through an
        # invoice they may read (its fields read the row with sudo)
        with self.assertRaises(AccessError):
            Prediction.with_user(self.sales_user).search_read([], ["move_id", "date", "reasons"])
        # a salesperson sees the invoices of their own sales (Odoo's rule), with their prediction
        self.open_large.invoice_user_id = self.sales_user
        own = self.env["account.move"].with_user(self.sales_user)
        rows = own.search_read(
            [("id", "=", self.open_large.id), ("credit_predicted_date", "!=", False)],
            ["credit_predicted_date"],
        )
        self.assertEqual(rows, [{"id": self.open_large.id, "credit_predicted_date": prediction.date}])
        for user in (self.sales_user, self.collector):
            if user == self.collector:
                self.assertEqual(prediction.with_user(user).date, self.open_large.credit_predicted_date)
            with self.assertRaisesRegex(AccessError, "computed, not entered|not allowed"):
                prediction.with_user(user).write({"date": self.today})
            with self.assertRaisesRegex(AccessError, "computed, not entered|not allowed"):
                Prediction.with_user(user).create(
                    {
                        "move_id": self.open_new.id,
                        "company_id": self.company.id,
                        "partner_id": self.newcomer.id,
                        "date": self.today,
                    }
                )
            with self.assertRaises(AccessError):
                prediction.with_user(user).unlink()
        defaults = (
            Prediction.with_user(self.sales_user)
            .with_context(default_source="model", default_date=self.today)
            .default_get(["source", "date"])
        )
        self.assertFalse(defaults.get("source"))
        self.assertFalse(defaults.get("date"))
        prediction.invalidate_recordset()
        self.assertEqual(prediction.date, self.open_large.credit_predicted_date)

    def test_open_rows_same_in_both_queries(self):
        every = {row["id"]: row for row in self.model._feature_rows(self.today) if not row["is_train"]}
        only = {row["id"]: row for row in self.model._open_item_rows(self.today)}
        self.assertEqual(set(only), set(every))
        for move_id, row in only.items():
            self.assertEqual(row, {name: every[move_id][name] for name in row})

    def test_fallback_without_history(self):
        self.assertEqual(self.open_new.credit_prediction_source, "rule")
        self.assertEqual(self.open_new.credit_predicted_date, self.open_new.invoice_date_due)
        self.assertIn("no payment history", self.open_new.credit_prediction_explanation)
        self.assertEqual(self.model.rule_count, 1)
        self.assertEqual(self.model.predicted_count, 2)

    def test_prediction_fields_protected(self):
        with self.assertRaisesRegex(AccessError, "computed, not entered"):
            self.open_new.with_user(self.collector).write({"credit_predicted_date": self.today})
        with self.assertRaises(AccessError):
            self.open_new.with_user(self.sales_user).write({"credit_prediction_source": "model"})
        move = (
            self.env["account.move"]
            .with_user(self.collector)
            .with_context(default_credit_prediction_source="model", default_move_type="out_invoice")
            .create({"partner_id": self.customer.id})
        )
        self.assertFalse(move.credit_prediction_source)
        with self.assertRaisesRegex(AccessError, "computed, not entered"):
            self.env["account.move"].with_user(self.collector).create(
                {
                    "partner_id": self.customer.id,
                    "move_type": "out_invoice",
                    "credit_predicted_date": self.today,
                }
            )

    def test_forecast_and_worklist_use_prediction(self):
        forecast = self.env["credit.forecast"]
        self.payer.sudo().write({"credit_avg_days_late": 30.0, "credit_max_days_late": 30})
        before = forecast._compute()
        self.assertFalse(forecast._predicted_offsets({self.open_small.id}))
        self.company.credit_use_predicted_dates = True
        after = forecast._compute()
        # with the setting, each invoice's best/expected/worst are its band and predicted date
        small = self.open_small
        offsets = forecast._predicted_offsets({small.id})[small.id]
        due = small.invoice_date_due
        self.assertEqual(offsets["expected"], (small.credit_predicted_date - due).days)
        self.assertEqual(offsets["best"], (small.credit_predicted_date_low - due).days)
        self.assertEqual(offsets["worst"], (small.credit_predicted_date_high - due).days)
        self.assertNotEqual(before["weeks"], after["weeks"])
        self.assertAlmostEqual(
            sum(week["expected"] for week in after["weeks"]),
            sum(week["expected"] for week in before["weeks"]),
        )
        line = self.env["credit.worklist"].search([("partner_id", "=", self.payer.id)])
        self.assertTrue(line)
        self.assertEqual(line.prediction_move_id, self.open_large)
        self.assertAlmostEqual(
            line.late_probability, self.open_large.credit_predicted_late_probability, places=4
        )
        self.assertEqual(line.points_late, round(self.open_large.credit_predicted_late_probability * 40))

    def test_training_only_for_managers(self):
        with self.assertRaisesRegex(AccessError, "Only credit managers"):
            self.model.with_user(self.collector).action_train()
        self.model.with_user(self.credit_manager).action_train()
        self.assertEqual(self.model.state, "trained")


@tagged("post_install", "-at_install")
class TestPaymentPredictionBacktest(CreditControlCommon):
    """The backtest on a tiny ledger, the rule's figures computed by hand (cut-off: 90 days ago)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partner_b = cls.env["res.partner"].create({"name": "Beta OHG", "is_company": True})
        # history of the customer, paid before the cut-off: 10 days late on 100, 20 on 300
        cls._pay(cls._invoice(100.0, days_ago=200), days_after_invoice=10)
        cls._pay(cls._invoice(300.0, days_ago=150), days_after_invoice=20)
        # open at the cut-off, paid since: 40 days late and 12 days late
        cls._pay(cls._invoice(1000.0, days_ago=100), days_after_invoice=40)
        cls._pay(cls._invoice(50.0, days_ago=92), days_after_invoice=12)
        # open at the cut-off and still open: not in the figures
        cls._invoice(70.0, days_ago=91)
        # a customer without history, 15 days late
        cls._pay(cls._invoice(80.0, partner=partner_b, days_ago=100), days_after_invoice=15)

    def test_backtest_rule_by_hand(self):
        cutoff = self.today - timedelta(days=90)
        figures = self.env["credit.payment.model"]._backtest(cutoff)
        # rule = (10 * 100 + 20 * 300) / 400 = 17.5 days late; an item still open at the cut-off is
        # predicted no earlier than the day after it: 1000 due 100 days ago -> at least 11 days:
        # |17.5 - 40| = 22.5; 50 due 92 days ago -> at least 3: |17.5 - 12| = 5.5;
        # Beta: no history, rule 0, at least 11: |11 - 15| = 4. MAE = 32 / 3.
        self.assertEqual(figures["count"], 3)
        self.assertAlmostEqual(figures["mae_rule"], 32.0 / 3.0, places=6)
        self.assertIsNone(figures["mae_model"])  # 2 paid items: too little to train

    def test_train_with_little_history_falls_back(self):
        model = self.env["credit.payment.model"]._get_for_company(self.company)
        self.env["credit.payment.model"]._cron_train()
        self.assertTrue(model.date_trained)
        self.assertEqual(model.state, "insufficient")
        self.assertAlmostEqual(model.backtest_mae_rule, 32.0 / 3.0, places=1)
        self.assertEqual(model.backtest_count, 3)
        self.assertEqual(model.rule_count, 1)  # the 70 still open, on the rule
        self.assertTrue(
            self.env["account.move"].search(
                [("credit_prediction_source", "=", "rule"), ("partner_id", "=", self.customer.id)]
            )
        )

    def test_lib_backtest_clamps_and_covers(self):
        # plain figures: both predictions clamped at the cut-off
        result = pp.backtest(
            np.zeros((0, len(pp.FEATURES))),
            [],
            np.zeros((2, len(pp.FEATURES))),
            [10.0, 0.0],
            [2.0, 4.0],
            [5.0, -3.0],
        )
        self.assertEqual(result["count"], 2)
        self.assertAlmostEqual(result["mae_rule"], (5.0 + 4.0) / 2)

    def test_lib_band_given_still_unpaid(self):
        # quantiles 0 / 10 / 30 days late; 20 days overdue at the cut-off: 70 % were paid before
        # (0.5 + 0.4 * 10 / 20); the median given still unpaid is the 85 % level: 10 + 20 * 0.35
        # / 0.4 = 27.5; the 10 % level (73 %) 21.5; the 90 % level (97 %) is in the upper tail
        # (30 .. 50): 30 + 20 * 0.7 = 44. Not yet due: the quantiles themselves. Past the tail's
        # end (50): the cut-off plus 10/50/90 % of the tail's width (20).
        prediction = {
            "q10": np.array([0.0, 0.0, 0.0]),
            "q50": np.array([10.0] * 3),
            "q90": np.array([30.0] * 3),
        }
        low, mid, high = pp.clamp_band(prediction, [-30.0, 20.0, 200.0])
        np.testing.assert_allclose(low, [0.0, 21.5, 202.0])
        np.testing.assert_allclose(mid, [10.0, 27.5, 210.0])
        np.testing.assert_allclose(high, [30.0, 44.0, 218.0])

    def _no_pattern_history(self, n=400, noise=None, seed=7):
        """``n`` items in time order whose days late are the rule's estimate plus symmetric
        noise (``noise``: per-row scale, default 3 days) and nothing else."""
        rng = np.random.default_rng(seed)
        features = rng.uniform(0, 10, size=(n, len(pp.FEATURES)))
        features[:, pp.FEATURES.index("hist_count")] = 10
        features[:, pp.RULE] = rng.uniform(0, 30, size=n)
        scale = np.full(n, 3.0) if noise is None else noise
        return features, features[:, pp.RULE] + rng.normal(0.0, 1.0, size=n) * scale

    def test_lib_residual_model_follows_rule_without_pattern(self):
        # days late = the rule + noise of 3 days: the median model's prediction stays within
        # 1.5 days of the rule on average (the noise's median is 0; a model fitting the noise
        # of 400 items would be off by about its spread, 2.4 days mean absolute)
        features, target = self._no_pattern_history()
        boosters = pp.load(pp.train(features, target))
        test, _target = self._no_pattern_history(n=200, seed=8)
        result = pp.predict(boosters, test)
        self.assertLess(np.mean(np.abs(result["q50"] - test[:, pp.RULE])), 1.5)
        # the contributions still sum to the prediction (the rule inside the base value)
        np.testing.assert_allclose(pp.contributions(boosters, test).sum(axis=1), result["raw_q50"], atol=1e-6)

    def _rounds_backtest(self, pattern):
        """pp.backtest on items whose days late are the rule + noise, plus ``pattern`` days
        for an item of more than 5 times the usual amount."""
        ratio = pp.FEATURES.index("amount_ratio")
        features, target = self._no_pattern_history(n=400, seed=11)
        test, actual = self._no_pattern_history(n=300, seed=12)
        target = target + np.where(features[:, ratio] > 5, pattern, 0.0)
        actual = actual + np.where(test[:, ratio] > 5, pattern, 0.0)
        return pp.backtest(features, target, test, actual, test[:, pp.RULE], np.full(len(actual), -1000.0))

    def test_lib_backtest_chooses_the_median_rounds(self):
        # without a pattern, rounds fit noise: few rounds are best, not worse than the rule;
        # with one (large invoices 20 days later), the rule is far off and many rounds are
        # best. The reported error is the one of the rounds asked for (default NUM_ROUNDS).
        plain, patterned = self._rounds_backtest(0.0), self._rounds_backtest(20.0)
        self.assertEqual(set(plain["curve"]), set(pp.MEDIAN_ROUNDS))
        self.assertLessEqual(plain["best_rounds"], 20)
        self.assertLess(plain["curve"][plain["best_rounds"]], plain["curve"][pp.NUM_ROUNDS])
        self.assertGreaterEqual(patterned["best_rounds"], 60)
        self.assertLess(patterned["curve"][patterned["best_rounds"]], patterned["mae_rule"] / 2)
        self.assertLessEqual(plain["curve"][plain["best_rounds"]], plain["mae_rule"])
        self.assertEqual(patterned["mae_model"], patterned["curve"][pp.NUM_ROUNDS])
        self.assertEqual(patterned["median_rounds"], pp.NUM_ROUNDS)

    def test_lib_median_rounds_read_first_trees(self):
        # the expected date of median_rounds=40 is the median model trained with 40 rounds; 0
        # is the rule's, without contributions (clamp_band still puts the date inside the
        # band); the band is the same whatever the rounds
        features, target = self._no_pattern_history(n=200)
        target = target + np.where(features[:, pp.FEATURES.index("amount_ratio")] > 5, 20.0, 0.0)
        test = features[:20]
        first40 = pp.predict(pp.load(pp.train(features, target, median_rounds=40)), test)
        trained40 = pp.predict(pp.load(pp.train(features, target, num_rounds=40)), test)
        np.testing.assert_allclose(first40["point"], trained40["q50"])
        default = pp.predict(pp.load(pp.train(features, target)), test)
        np.testing.assert_allclose(first40["q90"], default["q90"])
        np.testing.assert_allclose(first40["q50"], default["q50"])
        self.assertGreater(np.max(np.abs(first40["point"] - default["point"])), 0.1)
        zero = pp.load(pp.train(features, target, median_rounds=0))
        result = pp.predict(zero, test)
        np.testing.assert_allclose(result["point"], test[:, pp.RULE])
        np.testing.assert_allclose(result["q90"], default["q90"])
        contrib = pp.contributions(zero, test)
        np.testing.assert_allclose(contrib[:, :-1], 0.0)
        np.testing.assert_allclose(contrib.sum(axis=1), result["raw_q50"])

    def test_lib_month_is_a_category(self):
        # items due in July and August are paid 15 days later than the rule; the history knows
        # the months January to August only: a September item gets no month effect (as a
        # number, September would fall on August's side of a split and get its 15 days)
        features, target = self._no_pattern_history(n=400)
        month = features[:, pp.FEATURES.index("due_month")] = np.arange(400) % 8 + 1
        target = target + np.where((month == 7) | (month == 8), 15.0, 0.0)
        boosters = pp.load(pp.train(features, target))
        test, _target = self._no_pattern_history(n=100, seed=8)
        residual = {}
        for due_month in (8, 9, 10):
            test[:, pp.FEATURES.index("due_month")] = due_month
            residual[due_month] = np.median(pp.predict(boosters, test)["q50"] - test[:, pp.RULE])
        self.assertGreater(residual[8], 10.0)
        self.assertLess(abs(residual[9]), 3.0)
        self.assertLess(abs(residual[10]), 3.0)

    def test_lib_band_calibration_widens(self):
        # the recent fifth of the history is ten times as noisy as the older part: the band of
        # the quantile models (learned mostly from the quiet part) holds too few recent items,
        # the conformal widening is positive and moves both ends of the band by that many days
        n = 400
        noise = np.where(np.arange(n) >= n * (1 - pp.CALIBRATION_SHARE), 30.0, 3.0)
        features, target = self._no_pattern_history(n=n, noise=noise)
        models = pp.train(features, target)
        self.assertGreater(models["band"], 5.0)
        boosters = pp.load(models)
        plain = pp.load(dict(models, band=0.0))
        widened, narrow = pp.predict(boosters, features[:5]), pp.predict(plain, features[:5])
        self.assertEqual(widened["widening"], models["band"])
        not_due = np.full(5, -1000.0)
        low, mid, high = pp.clamp_band(widened, not_due)
        low0, mid0, high0 = pp.clamp_band(narrow, not_due)
        np.testing.assert_allclose(mid, mid0)
        self.assertTrue(np.all(low <= low0) and np.all(high >= high0) and np.any(high > high0))
        # the same noise throughout: little widening (the calibration slice has 80 items)
        features, target = self._no_pattern_history(n=n)
        self.assertLess(abs(pp.band_widening(features, target)), 3.0)  # about one noise spread
