import calendar
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class CreditKpi(models.AbstractModel):
    """Receivables KPIs of the current company per month, computed from the ledger and the
    credit records (decisions, dunning letters, promises); definitions in the README.

    Every KPI is computed for a whole range of months at once, one query per KPI (not one per
    month, never one per invoice): :meth:`_compute_months`."""

    _name = "credit.kpi"
    _description = "Receivables KPIs"

    # === RECEIVABLES AND SALES === #
    @api.model
    def _receivables(self, as_of):
        """Total, current (not yet due) and overdue receivables open at the end of ``as_of``."""
        as_of = fields.Date.to_date(as_of)
        return self._receivables_at([as_of])[as_of]

    @api.model
    def _credit_sales_by_month(self, date_from, date_to):
        """{first day of month: customer invoices minus credit notes}, company currency."""
        # sudo: KPIs are read by the credit team, not only by accountants
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("invoice_date", ">=", date_from),
                    ("invoice_date", "<=", date_to),
                    # write-off credit notes (and their reversals) are write-offs, not sales
                    ("id", "not in", self._write_off_move_ids(date_from, date_to)),
                ],
                ["invoice_date:month"],
                ["amount_total_signed:sum"],
            )
        )
        return {month: amount or 0.0 for month, amount in groups}

    @api.model
    def _dso_countback(self, month_end, receivables, months=24, sales_by_month=None):
        """Walk back month by month from ``month_end``: while the remaining receivables cover a
        month's credit sales, add its days; then the rest over that month's sales times its days.
        ``month_end`` may be a day within the month (the current month to date): that month
        counts with its days up to it."""
        start = month_end.replace(day=1)
        if sales_by_month is None:
            sales_by_month = self._credit_sales_by_month(start - relativedelta(months=months - 1), month_end)
        remaining, dso = receivables, 0.0
        for _step in range(months):
            if remaining <= 0:
                break
            days = calendar.monthrange(start.year, start.month)[1]
            if start == month_end.replace(day=1):
                days = month_end.day
            sales = sales_by_month.get(start, 0.0)
            if sales <= 0:
                dso += days  # a month without sales: the receivables are older
            elif remaining >= sales:
                dso += days
                remaining -= sales
            else:
                dso += remaining / sales * days
                remaining = 0.0
            start -= relativedelta(months=1)
        return dso

    # === THE KPIs === #
    @api.model
    def _compute_months(self, month_starts, today=None, over_limit_now=None):
        """One KPI dict per month of ``month_starts`` (first days of months, ascending).
        ``over_limit_now``: the number of customers over their limit now, when the caller has it.

        Long: one query per KPI for all months, then one dict per month; the dict's keys are the
        KPI definitions of the README, kept together so that they read as that list."""
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        month_starts = [fields.Date.to_date(start).replace(day=1) for start in month_starts]
        first, last = month_starts[0], month_starts[-1] + relativedelta(day=31)
        # the current month counts up to today: receivables as of today, its days so far
        ends = {start: min(start + relativedelta(day=31), max(today, start)) for start in month_starts}
        receivables = self._receivables_at(
            [start - relativedelta(days=1) for start in month_starts] + list(ends.values())
        )
        sales_by_month = self._credit_sales_by_month(first - relativedelta(months=23), last)
        write_offs = self._write_offs_by_month(first, last)
        dunning = self._dunning_by_month(first, last)
        blocked = self._blocked_orders_by_month(first, last)
        over_limit = self._limit_customers_by_month(first, last)
        promises = self._promises_by_month(first, last)
        current_month = today.replace(day=1)
        result = []
        for start in month_starts:
            month_end = ends[start]
            days = (month_end - start).days + 1
            closing = receivables[month_end]
            opening = receivables[start - relativedelta(days=1)]
            sales = sales_by_month.get(start, 0.0)
            dso = self._dso_countback(month_end, closing["total"], sales_by_month=sales_by_month)
            best = closing["current"] / sales * days if sales > 0 else 0.0
            cei_base = opening["total"] + sales - closing["current"]
            open_invoices = closing["current"] + closing["overdue"]
            levels = dunning.get(start, [])
            dunned = sum(level["dunned"] for level in levels)
            paid = sum(level["paid"] for level in levels)
            written_off, write_off_move_ids = write_offs.get(start, (0.0, []))
            blocked_count, blocked_amount = blocked.get(start, (0, 0.0))
            kept, broken = promises.get(start, (0, 0))
            if start == current_month:
                over = len(self._customers_over_limit_now()) if over_limit_now is None else over_limit_now
            else:
                over = over_limit.get(start, 0)
            result.append(
                {
                    "month": start,
                    "credit_sales": sales,
                    "receivables": closing["total"],
                    "current": closing["current"],
                    "overdue": closing["overdue"],
                    "dso": dso,
                    "best_dso": best,
                    "add": dso - best,
                    "cei": 100.0 * (opening["total"] + sales - closing["total"]) / cei_base
                    if cei_base
                    else 0.0,
                    "overdue_share": 100.0 * closing["overdue"] / open_invoices if open_invoices > 0 else 0.0,
                    "write_off": written_off,
                    "write_off_move_ids": write_off_move_ids,
                    "write_off_ratio": 100.0 * written_off / sales if sales > 0 else 0.0,
                    "dunned_amount": dunned,
                    "dunned_paid": paid,
                    "dunning_effectiveness": 100.0 * paid / dunned if dunned else 0.0,
                    "dunning_levels": levels,
                    "blocked_order_count": blocked_count,
                    "blocked_order_amount": blocked_amount,
                    "customers_over_limit": over,
                    "promises_kept": kept,
                    "promises_broken": broken,
                    "promise_kept_rate": 100.0 * kept / (kept + broken) if kept + broken else 0.0,
                }
            )
        return result

    @api.model
    def _compute_month(self, month_end, today=None):
        """KPIs of the month ending on ``month_end`` (a date, or any day of that month)."""
        return self._compute_months([fields.Date.to_date(month_end)], today=today)[0]

    @api.model
    def _compute_last_months(self, months=12, today=None):
        """One KPI dict per month for the last ``months`` months, the current month last."""
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        first = date(today.year, today.month, 1) - relativedelta(months=months - 1)
        return self._compute_months([first + relativedelta(months=i) for i in range(months)], today=today)
