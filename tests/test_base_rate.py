from datetime import date

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestBaseRate(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base_rate = cls.env["credit.base.rate"]
        cls.eur = cls.env.ref("base.EUR")

    def _interest(self, amount, due, until, business=True):
        return self.base_rate.statutory_interest(amount, due, until, business=business, currency=self.eur)

    def test_preloaded_rates(self):
        rates = {r.date_from: r.rate for r in self.base_rate.search([])}
        self.assertEqual(rates[date(2020, 1, 1)], -0.88)
        self.assertEqual(rates[date(2023, 7, 1)], 3.12)
        self.assertEqual(rates[date(2025, 7, 1)], 1.27)

    def test_display_name_in_the_users_formats(self):
        rate = self.base_rate.search([("date_from", "=", date(2025, 7, 1))])
        lang = self.env["res.lang"]._lang_get(self.env.user.lang or "en_US")
        lang.write({"date_format": "%d.%m.%Y", "decimal_point": ",", "thousands_sep": "."})
        self.assertEqual(rate.with_context(lang=lang.code).display_name, "1,27 % from 01.07.2025")

    def test_interest_across_base_rate_change_business(self):
        # 1,000.00 due 15 June 2023, interest until 15 July 2023, business (+9 points):
        #   16.06.-30.06.2023: 15 days at 1.62 + 9 = 10.62 %: 1000 * 0.1062 * 15 / 365 = 4.364384
        #   01.07.-15.07.2023: 15 days at 3.12 + 9 = 12.12 %: 1000 * 0.1212 * 15 / 365 = 4.980822
        #   total 9.345206 -> 9.35
        self.assertEqual(self._interest(1000.0, date(2023, 6, 15), date(2023, 7, 15)), 9.35)

    def test_interest_across_base_rate_change_consumer(self):
        # same period, consumer (+5 points):
        #   15 days at 6.62 %: 1000 * 0.0662 * 15 / 365 = 2.720548
        #   15 days at 8.12 %: 1000 * 0.0812 * 15 / 365 = 3.336986
        #   total 6.057534 -> 6.06
        self.assertEqual(self._interest(1000.0, date(2023, 6, 15), date(2023, 7, 15), business=False), 6.06)

    def test_interest_over_year_end_with_negative_base_rate(self):
        # 2,500.00 due 21 December 2022, until 10 January 2023, business:
        #   22.12.-31.12.2022: 10 days at -0.88 + 9 = 8.12 %: 2500 * 0.0812 * 10 / 365 = 5.561644
        #   01.01.-10.01.2023: 10 days at 1.62 + 9 = 10.62 %: 2500 * 0.1062 * 10 / 365 = 7.273973
        #   total 12.835616 -> 12.84
        self.assertEqual(self._interest(2500.0, date(2022, 12, 21), date(2023, 1, 10)), 12.84)

    def test_interest_three_periods(self):
        # 10,000.00 due 31 December 2023, until 31 January 2025, business (leap year 2024 still /365):
        #   01.01.-30.06.2024: 182 days at 12.62 %: 10000 * 0.1262 * 182 / 365 = 629.271233
        #   01.07.-31.12.2024: 184 days at 12.37 %: 10000 * 0.1237 * 184 / 365 = 623.583562
        #   01.01.-31.01.2025:  31 days at 11.27 %: 10000 * 0.1127 *  31 / 365 =  95.717808
        #   total 1348.572603 -> 1348.57
        self.assertEqual(self._interest(10000.0, date(2023, 12, 31), date(2025, 1, 31)), 1348.57)

    def test_no_interest_before_or_on_due_date(self):
        self.assertEqual(self._interest(1000.0, date(2024, 3, 1), date(2024, 3, 1)), 0.0)
        self.assertEqual(self._interest(1000.0, date(2024, 3, 1), date(2024, 2, 1)), 0.0)
        # one day: 1000 * 0.1262 / 365 = 0.345753 -> 0.35
        self.assertEqual(self._interest(1000.0, date(2024, 3, 1), date(2024, 3, 2)), 0.35)

    def test_missing_base_rate(self):
        with self.assertRaises(ValidationError) as caught:
            self._interest(1000.0, date(2019, 6, 1), date(2020, 2, 1))
        self.assertRegex(
            str(caught.exception), r"No base rate is recorded for.*complete the base rate table\."
        )

    def test_rounded_in_company_currency_by_default(self):
        interest = self.base_rate.statutory_interest(
            1000.0, date(2023, 6, 15), date(2023, 7, 15), company=self.company
        )
        self.assertEqual(interest, self.currency.round(9.345206))

    def test_only_managers_edit_rates(self):
        rate = self.base_rate.search([], limit=1)
        with self.assertRaises(AccessError) as caught:
            rate.with_user(self.collector).write({"rate": 5.0})
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to modify 'Base Rate \(Basiszinssatz\)'",
        )
        with self.assertRaises(AccessError) as caught:
            self.base_rate.with_user(self.collector).create({"date_from": date(2027, 1, 1), "rate": 1.0})
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to create 'Base Rate \(Basiszinssatz\)'",
        )
        new = self.base_rate.with_user(self.credit_manager).create(
            {"date_from": date(2027, 1, 1), "rate": 1.5}
        )
        self.assertEqual(new.rate, 1.5)
        # a collector still computes interest
        self.assertEqual(
            self.base_rate.with_user(self.collector).statutory_interest(
                1000.0, date(2023, 6, 15), date(2023, 7, 15), currency=self.eur
            ),
            9.35,
        )

    def test_interest_points_per_company(self):
        # a company with 8 points for businesses, same period as above:
        #   16.06.-30.06.2023: 15 days at 1.62 + 8 =  9.62 %: 1000 * 0.0962 * 15 / 365 = 3.953425
        #   01.07.-15.07.2023: 15 days at 3.12 + 8 = 11.12 %: 1000 * 0.1112 * 15 / 365 = 4.569863
        #   total 8.523288 -> 8.52
        self.company.credit_interest_points_business = 8.0
        interest = self.base_rate.statutory_interest(
            1000.0, date(2023, 6, 15), date(2023, 7, 15), company=self.company, currency=self.eur
        )
        self.assertEqual(interest, 8.52)
        # other companies keep the legal 9 points
        other = self.setup_other_company(name="Zinsen GmbH")["company"]
        self.assertEqual(other.credit_interest_points_business, 9.0)
        self.assertEqual(
            self.base_rate.statutory_interest(
                1000.0, date(2023, 6, 15), date(2023, 7, 15), company=other, currency=self.eur
            ),
            9.35,
        )
        # the current company is the default
        self.assertEqual(
            self.base_rate.with_company(self.company).statutory_interest(
                1000.0, date(2023, 6, 15), date(2023, 7, 15), currency=self.eur
            ),
            8.52,
        )

    def test_consumer_points_never_below_zero(self):
        # 2,500.00 due 21 December 2022, until 10 January 2023, consumer, 0 points configured:
        #   22.12.-31.12.2022: base rate -0.88 + 0 -> the rate stops at 0 %:             0.000000
        #   01.01.-10.01.2023: 10 days at 1.62 %: 2500 * 0.0162 * 10 / 365 =            1.109589
        #   total 1.109589 -> 1.11
        self.company.credit_interest_points_consumer = 0.0
        interest = self.base_rate.statutory_interest(
            2500.0,
            date(2022, 12, 21),
            date(2023, 1, 10),
            business=False,
            company=self.company,
            currency=self.eur,
        )
        self.assertEqual(interest, 1.11)

    def test_company_settings_validated_and_protected(self):
        with self.assertRaises(ValidationError) as caught:
            self.company.credit_interest_points_business = -1.0
        self.assertRegex(str(caught.exception), r"Interest points and the flat fee of.*cannot be negative\.")
        with self.assertRaises(ValidationError) as caught:
            self.company.credit_dunning_flat_fee = -40.0
        self.assertRegex(str(caught.exception), r"Interest points and the flat fee of.*cannot be negative\.")
        # collectors and credit managers do not change company settings; administrators do
        for user in (self.collector, self.credit_manager, self.sales_user):
            with self.assertRaises(AccessError) as caught:
                self.company.with_user(user).write({"credit_interest_points_business": 1.0})
            self.assertRegex(str(caught.exception), r"You are not allowed to modify 'Companies'")
            with self.assertRaises(AccessError) as caught:
                self.env["res.config.settings"].with_user(user).create({"credit_dunning_flat_fee": 0.0})
            self.assertRegex(
                str(caught.exception),
                r"You are not allowed to create 'Config Settings'",
            )
        settings = (
            self.env["res.config.settings"]
            .with_company(self.company)
            .create({"credit_interest_points_consumer": 4.5, "credit_dunning_flat_fee": 35.0})
        )
        settings.execute()
        self.assertEqual(self.company.credit_interest_points_consumer, 4.5)
        self.assertEqual(self.company.credit_dunning_flat_fee, 35.0)
