from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL


class CreditForecast(models.AbstractModel):
    """Cash-in forecast of the current company: every open receivable item at its predicted
    payment date — due date plus the customer's weighted average days late (expected), plus
    nothing (best) or plus the customer's maximum days late (worst) — summed per week for the
    next 13 weeks and per month for the next six months. Items predicted before today count in
    the first period."""

    _name = "credit.forecast"
    _description = "Cash-in Forecast"

    @api.model
    def _open_items(self):
        """(amount, due date, commercial partner id) of every open receivable item, one query."""
        company = self.env.company
        self.env["account.move.line"].flush_model(
            ["amount_residual", "date_maturity", "reconciled", "parent_state", "partner_id", "account_id"]
        )
        self.env.cr.execute(
            SQL(
                """
            SELECT l.amount_residual, COALESCE(l.date_maturity, l.date), p.commercial_partner_id
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE l.company_id = %(company_id)s
               AND l.parent_state = 'posted'
               AND a.account_type = 'asset_receivable'
               AND NOT l.reconciled
               AND (l.amount_residual <> 0 OR l.amount_residual_currency <> 0)
                """,
                company_id=company.id,
            )
        )
        return self.env.cr.fetchall()

    @api.model
    def _compute(self, today=None):
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        items = self._open_items()
        partners = self.env["res.partner"].browse({partner_id for _a, _d, partner_id in items})
        # sudo: stored behaviour of the customers, read for every item at once
        behaviour = {
            row["id"]: (row["credit_avg_days_late"] or 0.0, row["credit_max_days_late"] or 0)
            for row in partners.sudo().read(["credit_avg_days_late", "credit_max_days_late"])
        }
        week_start = today - timedelta(days=today.weekday())
        weeks = [
            {"start": week_start + timedelta(weeks=i), "best": 0.0, "expected": 0.0, "worst": 0.0}
            for i in range(13)
        ]
        month_start = today.replace(day=1)
        months = [
            {"start": month_start + relativedelta(months=i), "best": 0.0, "expected": 0.0, "worst": 0.0}
            for i in range(6)
        ]

        def add(periods, index, key, amount):
            if 0 <= index < len(periods):
                periods[index][key] += amount

        for amount, due, partner_id in items:
            avg_late, max_late = behaviour.get(partner_id, (0.0, 0))
            for key, late in (("best", 0), ("expected", round(avg_late)), ("worst", max_late)):
                paid_on = max(due + timedelta(days=late), today)
                add(weeks, (paid_on - week_start).days // 7, key, amount)
                add(
                    months,
                    (paid_on.year - month_start.year) * 12 + paid_on.month - month_start.month,
                    key,
                    amount,
                )
        currency = self.env.company.currency_id
        for period in weeks + months:
            for key in ("best", "expected", "worst"):
                period[key] = currency.round(period[key])
        return {"weeks": weeks, "months": months}
