import calendar
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class CreditKpi(models.AbstractModel):
    """Receivables KPIs of the current company for a month, computed from the ledger (the aging
    as of a date and the posted customer invoices); definitions in the README."""

    _name = "credit.kpi"
    _description = "Receivables KPIs"

    @api.model
    def _receivables(self, as_of):
        """Total, current (not yet due) and overdue receivables open at the end of ``as_of``."""
        groups = self.env["credit.aging.report"]._get_aging_totals(as_of)
        total, current = groups["amount_open"], groups["amount_not_due"]
        return {"total": total, "current": current, "overdue": total - current}

    @api.model
    def _credit_sales(self, date_from, date_to):
        """Customer invoices minus credit notes of the period, company currency."""
        # sudo: KPIs are read by the credit team, not only by accountants
        result = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("invoice_date", ">=", date_from),
                    ("invoice_date", "<=", date_to),
                ],
                [],
                ["amount_total_signed:sum"],
            )
        )
        return result[0][0] or 0.0

    @api.model
    def _dso_countback(self, month_end, receivables, months=24):
        """Walk back month by month from ``month_end``: while the remaining receivables cover a
        month's credit sales, add its days; then the rest over that month's sales times its days."""
        remaining, dso = receivables, 0.0
        start = month_end.replace(day=1)
        for _step in range(months):
            if remaining <= 0:
                break
            days = calendar.monthrange(start.year, start.month)[1]
            sales = self._credit_sales(start, start + relativedelta(day=31))
            if sales <= 0:
                dso += days  # a month without sales: the receivables are older
                start -= relativedelta(months=1)
                continue
            if remaining >= sales:
                dso += days
                remaining -= sales
            else:
                dso += remaining / sales * days
                remaining = 0.0
            start -= relativedelta(months=1)
        return dso

    @api.model
    def _compute_month(self, month_end):
        """KPIs of the month ending on ``month_end`` (a date, or any day of that month)."""
        month_end = fields.Date.to_date(month_end) + relativedelta(day=31)
        month_start = month_end.replace(day=1)
        days = (month_end - month_start).days + 1
        closing = self._receivables(month_end)
        opening = self._receivables(month_start - relativedelta(days=1))
        sales = self._credit_sales(month_start, month_end)
        dso = self._dso_countback(month_end, closing["total"])
        best = closing["current"] / sales * days if sales else 0.0
        cei_base = opening["total"] + sales - closing["current"]
        return {
            "month": month_start,
            "credit_sales": sales,
            "receivables": closing["total"],
            "current": closing["current"],
            "overdue": closing["overdue"],
            "dso": dso,
            "best_dso": best,
            "add": dso - best,
            "cei": 100.0 * (opening["total"] + sales - closing["total"]) / cei_base if cei_base else 0.0,
            "overdue_share": 100.0 * closing["overdue"] / closing["total"] if closing["total"] else 0.0,
        }

    @api.model
    def _compute_last_months(self, months=12, today=None):
        """One KPI dict per month for the last ``months`` months, the current month last."""
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        first = date(today.year, today.month, 1) - relativedelta(months=months - 1)
        return [self._compute_month(first + relativedelta(months=i)) for i in range(months)]
