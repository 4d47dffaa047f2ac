from odoo.tests import tagged
from odoo.tools import SQL

from .common import CreditControlCommon

# Queries of one refresh, whatever the number of customers (measured: behaviour 6, rating 21;
# the budget leaves room for a module adding a query, not for one per customer).
BEHAVIOUR_REFRESH_BUDGET = 10
RATING_REFRESH_BUDGET = 30


@tagged("post_install", "-at_install")
class TestScorecardRefreshQueries(CreditControlCommon):
    """The nightly refresh of payment behaviour and rating is set-based: its query count does
    not grow with the number of customers (#16)."""

    @classmethod
    def default_env_context(cls):
        return {}  # tracking on: the rating changes are logged in the chatter

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "customer_rank": 1} for i in range(8)]
        )
        for i, customer in enumerate(cls.customers):
            paid = cls._invoice(1000.0 + i, partner=customer, days_ago=60 + i)
            cls._pay(paid, days_after_invoice=10 * i)
            cls._invoice(500.0, partner=customer, days_ago=45 - i)

    def _queries(self, func):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        func()
        return self.env.cr.sql_log_count - before

    def test_refresh_queries_do_not_grow_with_the_customers(self):
        # warm-up (registry caches) on other customers
        self.customers[6:]._refresh_payment_behaviour()
        self.customers[6:]._refresh_credit_rating()
        two, six = self.customers[:2], self.customers[2:6]
        behaviour_2 = self._queries(two._refresh_payment_behaviour)
        behaviour_6 = self._queries(six._refresh_payment_behaviour)
        rating_2 = self._queries(two._refresh_credit_rating)
        rating_6 = self._queries(six._refresh_credit_rating)
        self.assertEqual(behaviour_2, behaviour_6, "payment behaviour: same queries for 2 and 6 customers")
        self.assertEqual(rating_2, rating_6, "rating: same queries for 2 and 6 customers")
        self.assertLessEqual(behaviour_6, BEHAVIOUR_REFRESH_BUDGET)
        self.assertLessEqual(rating_6, RATING_REFRESH_BUDGET)
        # and the work was done: every customer rated, its behaviour stored
        for customer in self.customers[:6]:
            self.assertEqual(customer.credit_behaviour_date, self.today)
            self.assertEqual(customer.credit_paid_invoice_count, 1)
            self.assertEqual(customer.credit_rating_source, "scorecard")
            self.assertTrue(customer.credit_rating_id)

    def test_rating_changes_are_tracked_and_notified(self):
        customer = self.customers[0]
        customer.user_id = self.sales_user
        customer._refresh_payment_behaviour()
        customer._refresh_credit_rating()
        rating = customer.credit_rating_id
        self.assertTrue(rating)
        message = customer.message_ids.filtered("tracking_value_ids")
        self.assertEqual(len(message), 1, "one chatter note with the tracked changes")
        tracked = {t.field_id.name: t for t in message.tracking_value_ids}
        self.assertEqual(set(tracked), {"credit_rating_id", "credit_score", "credit_rating_source"})
        self.assertEqual(tracked["credit_rating_id"].new_value_char, rating.display_name)
        self.assertEqual(tracked["credit_score"].new_value_integer, customer.credit_score)
        self.assertEqual(message.author_id, self.env.user.partner_id)
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_note"))
        activity = customer.activity_ids
        self.assertEqual(activity.user_id, self.sales_user, "the salesperson is told of the new rating")
        self.assertIn(rating.display_name, activity.summary)
        # nothing changed: no new note, no new activity
        customer._refresh_credit_rating()
        self.assertEqual(customer.message_ids.filtered("tracking_value_ids"), message)
        self.assertEqual(customer.activity_ids, activity)

    def test_no_tracking_when_disabled(self):
        customer = self.customers[1].with_context(tracking_disable=True)
        customer._refresh_credit_rating()
        self.assertTrue(customer.credit_rating_id)
        self.assertFalse(customer.message_ids.filtered("tracking_value_ids"))


@tagged("post_install", "-at_install")
class TestCompanyValuesAsWritten(CreditControlCommon):
    """The set-based store leaves the rows an ORM write leaves."""

    def _column(self, partner, fname):
        self.env.flush_all()
        return self.env.execute_query(
            SQL("SELECT %s FROM res_partner WHERE id = %s", SQL.identifier(fname), partner.id)
        )[0][0]

    def test_store_equals_write(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        by_orm, by_sql = self.env["res.partner"].create([{"name": "ORM"}, {"name": "SQL"}])
        rating = self.env.ref("credit_control.credit_rating_b")
        # another company's values stay untouched
        for partner in (by_orm, by_sql):
            partner.with_company(company_2).write({"credit_dso": 7.0, "credit_score": 40})
        for values in (
            {
                "credit_dso": 12.345,
                "credit_score": 61,
                "credit_rating_id": rating.id,
                "credit_rating_source": "scorecard",
                "credit_behaviour_date": self.today,
            },
            # the fallback values (0, nothing) remove the company's key, as write does
            {
                "credit_dso": 0.0,
                "credit_score": 0,
                "credit_rating_id": False,
                "credit_rating_source": False,
                "credit_behaviour_date": False,
            },
        ):
            by_orm.write(values)
            by_sql._credit_store_company_values({by_sql.id: values})
            for fname in values:
                self.assertEqual(self._column(by_sql, fname), self._column(by_orm, fname), fname)
            self.assertEqual(by_sql.credit_dso, by_orm.credit_dso)
            self.assertEqual(by_sql.credit_rating_id, by_orm.credit_rating_id)
        self.assertEqual(by_sql.with_company(company_2).credit_dso, 7.0)
        self.assertEqual(by_sql.with_company(company_2).credit_score, 40)
        self.assertEqual(by_sql.write_uid, self.env.user)
