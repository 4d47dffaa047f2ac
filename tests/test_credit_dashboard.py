from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditDashboard(CreditControlCommon):
    """Dashboard figures on a small ledger (company currency, no taxes):

    - customer (limit 1,000): invoice 1,500 due today (not due), invoice 400 overdue 45 days
      -> exposure 1,900, over its limit by 900
    - customer 2 (no limit): invoice 300 overdue 10 days -> exposure 300
    Aging: not due 1,500, 1-30 300, 31-60 400, total 2,200. Top exposures: customer, customer 2.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer2 = cls.env["res.partner"].create({"name": "Beispiel AG", "is_company": True})
        cls._invoice(1500.0)
        cls._invoice(400.0, days_ago=45)
        cls._invoice(300.0, partner=cls.customer2, days_ago=10)
        cls.customer.write({"credit_limit_set": True, "credit_limit": 1000.0})

    def test_figures(self):
        data = self.env["credit.dashboard"].with_user(self.collector).get_data()
        buckets = {bucket["key"]: bucket["amount"] for bucket in data["aging"]["buckets"]}
        self.assertEqual(data["aging"]["total"], 2200.0)
        self.assertEqual((buckets["not_due"], buckets["1_30"], buckets["31_60"]), (1500.0, 300.0, 400.0))
        self.assertEqual(sum(buckets.values()), 2200.0)
        self.assertEqual(
            [(row["name"], row["exposure"]) for row in data["top_exposures"]],
            [("Muster GmbH", 1900.0), ("Beispiel AG", 300.0)],
        )
        self.assertTrue(data["top_exposures"][0]["over_limit"])
        self.assertEqual(data["over_limit"]["count"], 1)
        kpis = {card["key"]: card for card in data["kpis"]}
        self.assertEqual(kpis["customers_over_limit"]["value"], 1)
        self.assertEqual(kpis["receivables"]["value"], 2200.0)
        self.assertEqual(kpis["overdue_share"]["trend"] in ("up", "down", "flat"), True)
        for card in data["kpis"]:
            self.assertTrue(card["action"], card["key"])
            self.assertTrue(card["value_display"], card["key"])

    def test_every_figure_opens_its_records(self):
        """The actions the server returns are valid for a collector and find the records."""
        data = self.env["credit.dashboard"].with_user(self.collector).get_data()
        actions = [card["action"] for card in data["kpis"]]
        actions += [data["aging"]["action"], data["over_limit"]["action"], data["blocked_orders"]["action"]]
        actions += [bucket["action"] for bucket in data["aging"]["buckets"]]
        actions += [row["action"] for row in data["top_exposures"]]
        for action in actions:
            model = (
                self.env[action["res_model"]]
                .with_user(self.collector)
                .with_context(**action.get("context", {}))
            )
            if action.get("res_id"):
                self.assertTrue(model.browse(action["res_id"]).read(["display_name"]))
            else:
                model.search(action["domain"])  # no error, access granted
        over = self.env["res.partner"].search(data["over_limit"]["action"]["domain"])
        self.assertEqual(over, self.customer)
        overdue = next(card for card in data["kpis"] if card["key"] == "overdue_share")["action"]
        overdue_lines = (
            self.env["credit.aging.report"].with_context(**overdue["context"]).search(overdue["domain"])
        )
        self.assertEqual(sum(overdue_lines.mapped("amount_open")), 700.0)  # 400 + 300: the overdue invoices
        bucket_31_60 = next(b for b in data["aging"]["buckets"] if b["key"] == "31_60")
        lines = self.env["credit.aging.report"].with_context(**bucket_31_60["action"]["context"])
        self.assertEqual(sum(lines.search(bucket_31_60["action"]["domain"]).mapped("amount_open")), 400.0)

    def test_promises_disputes_tasks(self):
        """Broken promises 250 + 150 = 400 (an open one does not count); disputes: one open, one in
        progress, one resolved -> 2 open; open tasks: credit team + 2 (a third is done), sales + 1
        (besides the tasks the disputes opened themselves)."""
        invoice = self.env["account.move"].search([("partner_id", "=", self.customer.id)], limit=1)
        common = {"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)]}
        self.env["credit.promise"].create(
            [
                dict(common, amount=250.0, date_promised=self.today, state="broken"),
                dict(common, amount=150.0, date_promised=self.today, state="broken"),
                dict(common, amount=999.0, date_promised=self.today, state="open"),
            ]
        )
        self.env["credit.dispute"].create(
            [dict(common, amount=10.0, state=state) for state in ("open", "progress", "resolved")]
        )
        before = dict(
            self.env["credit.task"]._read_group(
                [("company_id", "=", self.company.id), ("is_open", "=", True)], ["team"], ["__count"]
            )
        )  # disputes may open tasks of their own
        tasks = self.env["credit.task"].create(
            [
                {"name": "Call", "partner_id": self.customer.id, "team": team}
                for team in ("credit", "credit", "credit", "sales")
            ]
        )
        tasks[2].action_done()
        data = self.env["credit.dashboard"].with_user(self.collector).get_data()
        self.assertEqual(data["promises"]["count"], 2)
        self.assertIn("400", data["promises"]["amount_display"])
        self.assertEqual(data["disputes"]["count"], 2)
        self.assertEqual(
            {team["team"]: team["count"] for team in data["tasks"]},
            {"credit": before.get("credit", 0) + 2, "sales": before.get("sales", 0) + 1},
        )
        credit_team = next(team for team in data["tasks"] if team["team"] == "credit")
        found = self.env["credit.task"].search(credit_team["action"]["domain"])
        self.assertEqual(found & tasks, tasks[:2])
        self.assertEqual(len(found), credit_team["count"])
        self.assertEqual(
            sorted(self.env["credit.promise"].search(data["promises"]["action"]["domain"]).mapped("amount")),
            [150.0, 250.0],
        )

    def test_access(self):
        with self.assertRaises(AccessError) as caught:
            self.env["credit.dashboard"].with_user(self.sales_user).get_data()
        self.assertRegex(str(caught.exception), r"The Credit Control dashboard is for the credit team\.")
        # a manager sees the same figures as the collector
        data = self.env["credit.dashboard"].with_user(self.credit_manager).get_data()
        self.assertEqual(data["aging"]["total"], 2200.0)

    def test_current_company_only(self):
        other = self.setup_other_company()["company"]
        self.collector.company_ids |= other
        data = self.env["credit.dashboard"].with_user(self.collector).with_company(other).get_data()
        self.assertEqual(data["aging"]["total"], 0.0)
        self.assertEqual(data["top_exposures"], [])
        self.assertEqual(data["over_limit"]["count"], 0)

    def test_query_budget(self):
        """The number of queries does not depend on the number of customers or invoices."""
        dashboard = self.env["credit.dashboard"].with_user(self.collector)
        dashboard.get_data()  # warm the caches (views, groups)
        self.env.invalidate_all()
        with self.assertQueryCount(25):  # 21 measured
            dashboard.get_data()
        for index in range(5):
            partner = self.env["res.partner"].create({"name": "Kunde %s" % index, "is_company": True})
            self._invoice(100.0 * (index + 1), partner=partner, days_ago=index * 20)
        self.env.invalidate_all()
        with self.assertQueryCount(25):
            data = dashboard.get_data()
        self.assertEqual(len(data["top_exposures"]), 7)

    def test_aging_bars_agree_with_aging_report(self):
        """With a partial payment (300 of the 1,500) and an open credit note of 100 due in 10 days,
        the dashboard's one-query buckets equal the aging report's, bucket by bucket."""
        invoice = self.env["account.move"].search(
            [("partner_id", "=", self.customer.id), ("amount_total", "=", 1500.0)], limit=1
        )
        self._pay(invoice, amount=300.0)
        self._invoice(100.0, move_type="out_refund", term=self.env.ref("account.account_payment_term_15days"))
        mine = self.env["credit.kpi"]._aging_buckets(self.today)
        report = self.env["credit.aging.report"]._get_aging_totals(self.today)
        for key, amount in mine.items():
            self.assertAlmostEqual(amount, report["amount_%s" % key], msg=key)
        self.assertEqual(mine["open"], 2200.0 - 300.0 - 100.0)

    def test_aging_bars_as_of_a_past_date(self):
        """As of 20 days ago, the 400 invoice (45 days old, due at once) had had 100 paid five
        days after it; the other 300, paid 30 days after it, were still open (25 days overdue);
        the 1,500 and 300 invoices did not exist yet. The bars read the items open now and those
        settled by a partial dated after the date: the same figures as the aging report's."""
        invoice = self.env["account.move"].search(
            [("partner_id", "=", self.customer.id), ("amount_total", "=", 400.0)], limit=1
        )
        self._pay(invoice, amount=100.0, days_after_invoice=5)
        self._pay(invoice, amount=300.0, days_after_invoice=30)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        as_of = self.today - timedelta(days=20)
        bars = self.env["credit.kpi"]._aging_buckets(as_of)
        self.assertEqual(
            (bars["open"], bars["1_30"], bars["not_due"], bars["credit"]), (300.0, 300.0, 0.0, 0.0)
        )
        report = self.env["credit.aging.report"]._get_aging_totals(as_of)
        for key, amount in bars.items():
            self.assertAlmostEqual(amount, report["amount_%s" % key], msg=key)
        # today the invoice is paid: only the two later invoices are open
        self.assertEqual(self.env["credit.kpi"]._aging_buckets(self.today)["open"], 1800.0)

    def test_dunning_levels_open_their_lines(self):
        """A validated letter of today at a level with the 400 overdue invoice: 400 dunned, nothing
        paid yet (0 %); the level's action lists that line."""
        self.env["credit.dunning.level"].with_context(active_test=False).search(
            [("company_id", "=", self.company.id)]
        ).unlink()
        level = self.env["credit.dunning.level"].create(
            {"company_id": self.company.id, "sequence": 10, "name": "Payment Reminder", "days": 7}
        )
        invoice = self.env["account.move"].search(
            [("partner_id", "=", self.customer.id), ("amount_total", "=", 400.0)], limit=1
        )
        run = self.env["credit.dunning.run"].create({"date": self.today, "company_id": self.company.id})
        letter = self.env["credit.dunning.letter"].create(
            {
                "run_id": run.id,
                "state": "done",
                "partner_id": self.customer.id,
                "recipient_id": self.customer.id,
                "currency_id": self.currency.id,
                "line_ids": [
                    Command.create(
                        {
                            "move_id": invoice.id,
                            "level_id": level.id,
                            "currency_id": self.currency.id,
                            "amount_residual": 400.0,
                            "amount_residual_company": 400.0,
                        }
                    )
                ],
            }
        )
        data = self.env["credit.dashboard"].with_user(self.collector).get_data()
        [row] = data["dunning_levels"]
        self.assertEqual(
            (row["level"], row["dunned"], row["paid"], row["share"]), ("Payment Reminder", 400.0, 0.0, 0.0)
        )
        self.assertEqual(
            self.env["credit.dunning.line"].with_user(self.collector).search(row["action"]["domain"]),
            letter.line_ids,
        )
