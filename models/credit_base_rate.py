import logging
from datetime import date as date_type
from datetime import timedelta

import requests
from lxml import etree

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_round, format_date, formatLang

_logger = logging.getLogger(__name__)

# Bundesbank statistics web service (SDMX REST, api.statistiken.bundesbank.de/rest/data/<flow>/<key>,
# SDMX-ML generic data by default): the base rate of §247 BGB is the time series BBK01.SU0115.
# Overridable with the system parameter credit_control.base_rate_url.
BUNDESBANK_BASE_RATE_URL = "https://api.statistiken.bundesbank.de/rest/data/BBK01/SU0115"
BUNDESBANK_TIMEOUT = 20

# §288(1) and (2) BGB: default interest is the base rate plus 9 percentage points for businesses
# and 5 for consumers: per company in credit_interest_points_business / _consumer.
# Day-count convention: actual days / 365 (also in leap years), as German courts compute
# default interest ("act/365"); interest runs from the day after the due date up to and
# including the end date.
DAYS_PER_YEAR = 365


class CreditBaseRate(models.Model):
    _name = "credit.base.rate"
    _description = "Base Rate (Basiszinssatz)"
    _order = "date_from desc"
    _rec_name = "date_from"

    # === FIELDS === #
    date_from = fields.Date(string="Valid From", required=True, index=True)
    rate = fields.Float(
        string="Base Rate (%)",
        required=True,
        digits=(16, 2),
        help="Base rate of §247 BGB published by the Deutsche Bundesbank, in percent per year "
        "(may be negative).",
    )
    note = fields.Char(help="Source or remark, e.g. the Bundesbank publication.")

    _sql_constraints = [
        ("date_from_unique", "UNIQUE(date_from)", "There is already a base rate for this date."),
    ]

    # === COMPUTE === #
    @api.depends("date_from", "rate")
    def _compute_display_name(self):
        for base_rate in self:
            base_rate.display_name = _(
                "%(rate)s %% from %(date)s",
                rate=formatLang(self.env, base_rate.rate, digits=2),
                date=format_date(self.env, base_rate.date_from) if base_rate.date_from else "",
            )

    # === BUSINESS METHODS === #
    @api.model
    def _get_rate_periods(self, date_start, date_end):
        """Periods ``(first_day, last_day, base_rate)`` covering ``date_start``..``date_end``
        (both included), one per base rate in force. Raises when no rate is known for a day."""
        rates = self.sudo().search_fetch(
            [("date_from", "<=", date_end)], ["date_from", "rate"], order="date_from"
        )
        periods = []
        for index, base_rate in enumerate(rates):
            next_start = rates[index + 1].date_from if index + 1 < len(rates) else None
            first = max(base_rate.date_from, date_start)
            last = min(next_start - timedelta(days=1), date_end) if next_start else date_end
            if first <= last:
                periods.append((first, last, base_rate.rate))
        if not periods or periods[0][0] > date_start:
            raise ValidationError(
                _("No base rate is recorded for %(date)s: complete the base rate table.", date=date_start)
            )
        return periods

    @api.model
    def statutory_interest(self, amount, due_date, until_date, business=True, company=None, currency=None):
        """Default interest of §288 BGB on ``amount`` from the day after ``due_date`` up to and
        including ``until_date``: base rate + the company's points for businesses (``business``,
        9 by default) or for consumers (5 by default), day by day, switching rate at each
        base-rate change; actual days / 365. Returned in the amount's currency (``currency``,
        else the company's), rounded to the cent."""
        company = company or self.env.company
        currency = currency or company.currency_id
        if not amount or not due_date or not until_date or until_date <= due_date:
            return 0.0
        periods = self._get_rate_periods(due_date + timedelta(days=1), until_date)
        return self._interest_for_periods(periods, amount, due_date, until_date, business, currency, company)

    @api.model
    def _interest_for_periods(self, periods, amount, due_date, until_date, business, currency, company):
        """Interest from ``_get_rate_periods`` periods (which may cover more than the interest
        period: a dunning run loads them once for all its invoices)."""
        if not amount or not due_date or not until_date or until_date <= due_date:
            return 0.0
        margin = (
            company.credit_interest_points_business if business else company.credit_interest_points_consumer
        )
        start = due_date + timedelta(days=1)
        if not periods or periods[0][0] > start:
            raise ValidationError(
                _("No base rate is recorded for %(date)s: complete the base rate table.", date=start)
            )
        interest = 0.0
        for first, last, base_rate in periods:
            first, last = max(first, start), min(last, until_date)
            if first <= last:
                days = (last - first).days + 1
                # a negative base rate never makes the total rate negative with the legal points
                # (-0.88 + 5 > 0); with fewer points configured the rate stops at 0
                interest += amount * max(base_rate + margin, 0.0) / 100.0 * days / DAYS_PER_YEAR
        return float_round(interest, precision_rounding=currency.rounding)

    @api.model
    def _half_year_start(self, day):
        """1 January or 1 July: the first day of the base rate's half-year containing ``day``."""
        return day.replace(month=1 if day.month < 7 else 7, day=1)

    @api.model
    def _last_known_date(self):
        """Valid-from date of the newest rate in the table (False when it is empty)."""
        self.env["credit.base.rate"].flush_model(["date_from"])
        self.env.cr.execute("SELECT MAX(date_from) FROM credit_base_rate")
        return self.env.cr.fetchone()[0] or False

    @api.model
    def _current_rate_missing_message(self, date=None):
        """A translated warning when the table lacks the rate of the half-year containing
        ``date`` (today by default): interest past the newest rate then runs on at that rate.
        False when the half-year's rate is recorded (the Bundesbank publishes every half-year's
        rate, also an unchanged one)."""
        day = fields.Date.to_date(date) if date else fields.Date.context_today(self)
        start = self._half_year_start(day)
        last = self._last_known_date()
        if last and last >= start:
            return False
        if not last:
            return _("The base rate table is empty: record the base rates of §247 BGB.")
        rate = self.sudo().search([("date_from", "=", last)], limit=1).rate
        return _(
            "The base rate table has no rate for the half-year from %(start)s (§247 BGB): interest "
            "after %(last)s is computed with the last known rate of %(rate)s %%. Record the rate the "
            "Bundesbank published under Configuration > Base Rates.",
            start=format_date(self.env, start),
            last=format_date(self.env, last),
            rate=formatLang(self.env, rate, digits=2),
        )

    # === BUNDESBANK UPDATE === #
    @api.model
    def _cron_update_from_bundesbank(self):
        """Scheduled action (inactive by default): add the half-year rates the table lacks from
        the Bundesbank's time series. A failed download or an unreadable answer is logged and
        changes nothing; the table never depends on it."""
        url = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("credit_control.base_rate_url", BUNDESBANK_BASE_RATE_URL)
        )
        try:
            response = requests.get(url, timeout=BUNDESBANK_TIMEOUT, headers={"Accept-Language": "en"})
            response.raise_for_status()
            observations = self._parse_bundesbank_series(response.content)
        except (requests.RequestException, ValueError, etree.XMLSyntaxError) as error:
            _logger.warning("Base rate update from the Bundesbank failed (%s): %s", url, error)
            return self.browse()
        return self._add_missing_rates(observations, note=_("Deutsche Bundesbank, %(url)s", url=url))

    @api.model
    def _parse_bundesbank_series(self, content):
        """{half-year start: rate} from an SDMX-ML (generic) answer of the statistics web service.
        Periods ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-S1``/``-S2``; only 1 January and 1 July
        count; missing values ("." or empty) are skipped. Raises ValueError when no observation is
        readable."""
        root = etree.fromstring(content)
        result = {}
        for obs in root.xpath("//*[local-name()='Obs']"):
            period = obs.xpath("./*[local-name()='ObsDimension']/@value")
            value = obs.xpath("./*[local-name()='ObsValue']/@value")
            if not period or not value or value[0].strip() in ("", ".", "NaN"):
                continue
            day = self._bundesbank_period(period[0].strip())
            if day and day.day == 1 and day.month in (1, 7):
                result[day] = float(value[0])
        if not result:
            raise ValueError("no base rate observation in the answer")
        return result

    @api.model
    def _bundesbank_period(self, period):
        year, _sep, rest = period.partition("-")
        if not year.isdigit():
            return None
        if rest in ("S1", "S2"):
            return date_type(int(year), 1 if rest == "S1" else 7, 1)
        parts = rest.split("-")
        if len(parts) in (1, 2) and all(part.isdigit() for part in parts):
            return date_type(int(year), int(parts[0]), int(parts[1]) if len(parts) == 2 else 1)
        return None

    @api.model
    def _add_missing_rates(self, observations, note):
        """Create the rows newer than the table's newest rate; returns them."""
        last = self._last_known_date()
        values = [
            {"date_from": day, "rate": rate, "note": note}
            for day, rate in sorted(observations.items())
            if not last or day > last
        ]
        rates = self.sudo().create(values) if values else self.browse()
        if rates:
            _logger.info(
                "Base rates added from the Bundesbank: %s", ", ".join(str(day["date_from"]) for day in values)
            )
        return rates
