from datetime import date, timedelta
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

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

    def _note_rows(self, customers, after_id):
        """The chatter notes of ``customers`` after message ``after_id`` and their tracking
        values, as rows (without ids, the notes' date and Message-Id)."""
        self.env.flush_all()
        notes = self.env.execute_query(
            SQL(
                """SELECT to_jsonb(m) - '{id,date,message_id}'::text[] FROM mail_message m
                    WHERE m.model = 'res.partner' AND m.res_id = ANY(%s) AND m.id > %s
                 ORDER BY m.res_id""",
                customers.ids,
                after_id,
            )
        )
        values = self.env.execute_query(
            SQL(
                """SELECT m.res_id, to_jsonb(t) - '{id,mail_message_id}'::text[]
                     FROM mail_tracking_value t JOIN mail_message m ON m.id = t.mail_message_id
                    WHERE m.model = 'res.partner' AND m.res_id = ANY(%s) AND m.id > %s
                 ORDER BY m.res_id, t.id""",
                customers.ids,
                after_id,
            )
        )
        return notes, values

    def test_notes_in_one_insert_are_the_orm_notes(self):
        """The rating notes copied in one INSERT and their tracking values inserted in one are
        the rows Odoo's own batch log and tracking leave (_message_log_batch, _mail_track and
        create of every note and value, the way it was done before #16's last step)."""

        def orm_log(partners, fnames, initial_values):
            tracked_fields = partners.fields_get(
                fnames, attributes=("string", "type", "selection", "currency_field")
            )
            changed = {}
            for partner in partners.sudo():
                _changes, tracking = partner._mail_track(tracked_fields, initial_values[partner.id])
                if tracking:
                    changed[partner.id] = [values for _cmd, _id, values in tracking]
            notes = partners.browse(changed)._message_log_batch({pid: "" for pid in changed})
            self.env["mail.tracking.value"].sudo().create(
                [dict(values, mail_message_id=note.id) for note in notes for values in changed[note.res_id]]
            )

        customers = self.customers[:4]
        customers._refresh_payment_behaviour()
        self.env.flush_all()
        last = self.env.execute_query(SQL("SELECT COALESCE(MAX(id), 0) FROM mail_message"))[0][0]
        savepoint = self.env.cr.savepoint(flush=False)
        customers._refresh_credit_rating()
        bulk = self._note_rows(customers, last)
        message_ids = self.env.execute_query(
            SQL(
                "SELECT message_id FROM mail_message"
                " WHERE model = 'res.partner' AND res_id = ANY(%s) AND id > %s",
                customers.ids,
                last,
            )
        )
        self.assertEqual(len({row[0] for row in message_ids if row[0]}), 4, "each note its own Message-Id")
        savepoint.close()  # rolled back
        self.env.invalidate_all()
        with patch.object(type(self.env["res.partner"]), "_credit_log_tracking", orm_log):
            customers._refresh_credit_rating()
        orm = self._note_rows(customers, last)
        self.assertEqual(len(bulk[0]), 4, "a note per customer")
        self.assertEqual(len(bulk[1]), 12, "three tracked changes per customer")
        self.assertEqual(bulk, orm)
        # the chatter reads them back (cache of the customers' messages invalidated)
        for customer in customers:
            self.assertEqual(len(customer.message_ids.filtered("tracking_value_ids")), 1)

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


@tagged("post_install", "-at_install")
class TestScorecardInputs(CreditControlCommon):
    """What the scorecard reads for many customers at once, against the ORM's own figures."""

    def test_first_invoice_dates_as_the_read_group(self):
        second = self.env["res.partner"].create({"name": "Zweite AG", "is_company": True})
        self._invoice(100.0, days_ago=40)
        self._invoice(50.0, partner=self.contact, days_ago=90)
        self._invoice(30.0, move_type="out_refund", days_ago=200)  # a credit note: not an invoice
        self._invoice(20.0, days_ago=300, post=False)  # a draft: not counted
        partners = self.customer | second
        expected = {
            partner.id: first_date
            for partner, first_date in self.env["account.move"]._read_group(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("company_id", "=", self.company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                ],
                ["commercial_partner_id"],
                ["invoice_date:min"],
            )
        }
        self.assertEqual(partners._credit_first_invoice_dates(), expected)
        self.assertEqual(expected, {self.customer.id: self.today - timedelta(days=90)})

    def test_months_of_the_relationship_as_relativedelta(self):
        partner = self.env["res.partner"]
        for first, today in [
            (date(2024, 1, 31), date(2024, 2, 29)),
            (date(2024, 1, 31), date(2024, 2, 28)),
            (date(2023, 3, 31), date(2023, 4, 30)),
            (date(2024, 2, 29), date(2025, 2, 28)),
            (date(2024, 5, 15), date(2024, 5, 14)),
            (date(2020, 12, 1), date(2026, 12, 3)),
            (date(2026, 12, 3), date(2026, 12, 3)),
        ] + [(date(2024, 1, 31) + timedelta(days=d), date(2025, 3, 1)) for d in range(0, 420, 7)]:
            delta = relativedelta(today, first)
            self.assertEqual(
                partner._credit_months_between(first, today), delta.years * 12 + delta.months, (first, today)
            )
