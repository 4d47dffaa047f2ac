from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_round

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
                "%(rate).2f %% from %(date)s",
                rate=base_rate.rate,
                date=fields.Date.to_string(base_rate.date_from) if base_rate.date_from else "",
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
