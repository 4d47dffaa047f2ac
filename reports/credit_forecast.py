from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib.open_items import flush_open_items, open_receivable_where


class CreditForecast(models.AbstractModel):
    """Cash-in forecast of the current company: every open receivable item at its predicted
    payment date — due date plus the customer's weighted average days late (expected), plus
    nothing (best) or plus the customer's maximum days late (worst) — summed per week for the
    next 13 weeks and per month for the next six months. Items predicted before today count in
    the first period. With the company setting "Use predicted payment dates" an invoice with a
    stored prediction (see credit.payment.model) is expected at its predicted date, best at the
    band's low and worst at its high end instead.

    Covered items: the invoices of an active payment plan come in as its unpaid instalments, at
    each instalment's due date (best and expected; worst: plus the customer's maximum days late);
    an open promise to pay moves the promised amount (at most what is open on its invoices) to
    the promised date (best and expected; worst: the end of its grace period), the rest of those
    invoices stays at its predicted date.

    Open credits (unallocated payments, credit notes) are money already received: per customer
    they reduce its expected receipts, oldest items first (by due or promised date); a customer
    whose credits cover its open items (net balance 0 or less) is not forecast at all."""

    _name = "credit.forecast"
    _description = "Cash-in Forecast"

    @api.model
    def _open_items(self):
        """(amount, due date, commercial partner id, move id) of every open receivable item, one query."""
        company = self.env.company
        flush_open_items(self.env)
        self.env.cr.execute(
            SQL(
                """
            SELECT l.amount_residual, COALESCE(l.date_maturity, l.date), p.commercial_partner_id, l.move_id
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE %(open_items)s
                """,
                open_items=open_receivable_where(company_id=company.id, account="a"),
            )
        )
        return self.env.cr.fetchall()

    @api.model
    def _covered(self, items, today):
        """Apply payment plans and promises to ``items`` (see the class): returns the items left
        at their predicted dates and the covered amounts as (amount, best/expected date, worst
        date or None for "plus the customer's maximum days late", commercial partner id)."""
        company = self.env.company
        # sudo: the forecast covers every customer of the company, whoever owns the plan or promise
        plans = (
            self.env["credit.payment.plan"]
            .sudo()
            .search([("company_id", "=", company.id), ("state", "=", "active")])
        )
        plan_moves = set(plans.move_ids.ids)
        covered = [
            (
                line.currency_id._convert(
                    line.amount - line.amount_paid, company.currency_id, company, today
                ),
                line.date_due,
                None,
                line.partner_id.commercial_partner_id.id,
            )
            for line in plans.line_ids
            if line.state != "paid" and line.currency_id.compare_amounts(line.amount, line.amount_paid) > 0
        ]
        remaining = [list(item) for item in items if item[3] not in plan_moves]
        by_move = {}
        for item in sorted(remaining, key=lambda item: item[1]):
            by_move.setdefault(item[3], []).append(item)
        promises = (
            self.env["credit.promise"]
            .sudo()
            .search([("company_id", "=", company.id), ("state", "=", "open")], order="date_promised, id")
        )
        for promise in promises:
            amount = promise.currency_id._convert(promise.amount, company.currency_id, company, today)
            for item in (item for move in promise.move_ids for item in by_move.get(move.id, [])):
                part = min(amount, item[0])
                if part <= 0:
                    continue
                item[0] -= part
                amount -= part
                covered.append(
                    (
                        part,
                        promise.date_promised,
                        promise.date_grace_end,
                        promise.partner_id.commercial_partner_id.id,
                    )
                )
        return [tuple(item) for item in remaining if item[0]], covered

    @api.model
    def _net_credits(self, items, covered):
        """Net each customer's open credits (negative items) against its receipts, oldest first:
        returns ``items`` and ``covered`` with the credits consumed and without the credits."""
        credits = defaultdict(float)
        entries = []
        for amount, due, partner_id, move_id in items:
            if amount < 0:
                credits[partner_id] -= amount
            elif amount > 0:
                entries.append([amount, due, partner_id, move_id, "item", None])
        for amount, day, worst, partner_id in covered:
            if amount > 0:
                entries.append([amount, day, partner_id, None, "covered", worst])
        entries.sort(key=lambda entry: (entry[1], entry[4] == "covered", entry[3] or 0))
        for entry in entries:
            credit = credits.get(entry[2], 0.0)
            if credit > 0:
                part = min(credit, entry[0])
                entry[0] -= part
                credits[entry[2]] = credit - part
        return (
            [(e[0], e[1], e[2], e[3]) for e in entries if e[4] == "item" and e[0] > 0],
            [(e[0], e[1], e[5], e[2]) for e in entries if e[4] == "covered" and e[0] > 0],
        )

    @api.model
    def _predicted_offsets(self, move_ids):
        """With the company setting "Use predicted payment dates": {move id: {"best", "expected",
        "worst": days after the invoice's due date}} of the invoices with a stored prediction
        (low, median and high of the band; one query), applied to each of its items' due dates."""
        if not self.env.company.credit_use_predicted_dates or not move_ids:
            return {}
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id, date_low - d, date - d, date_high - d
              FROM (SELECT m.id, COALESCE(m.invoice_date_due, m.invoice_date) AS d, p.date,
                           p.date_low, p.date_high
                      FROM credit_payment_prediction p
                      JOIN account_move m ON m.id = p.move_id
                     WHERE p.move_id = ANY(%s) AND p.date IS NOT NULL) m
                """,
                list(move_ids),
            )
        )
        return {row[0]: {"best": row[1], "expected": row[2], "worst": row[3]} for row in rows}

    @api.model
    def _compute(self, today=None):
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        items, covered = self._net_credits(*self._covered(self._open_items(), today))
        partners = self.env["res.partner"].browse(
            {item[2] for item in items} | {partner_id for _a, _d, _w, partner_id in covered}
        )
        # sudo: stored behaviour of the customers, read for every item at once
        behaviour = {
            row["id"]: (row["credit_avg_days_late"] or 0.0, row["credit_max_days_late"] or 0)
            for row in partners.sudo().read(["credit_avg_days_late", "credit_max_days_late"])
        }
        periods = _ForecastPeriods(today)
        predicted = self._predicted_offsets({item[3] for item in items})
        for amount, due, partner_id, move_id in items:
            avg_late, max_late = behaviour.get(partner_id, (0.0, 0))
            offsets = predicted.get(move_id)
            if offsets:
                # company setting "Use predicted payment dates": the prediction's band and median
                periods.add(amount, {key: due + timedelta(days=days) for key, days in offsets.items()})
                continue
            periods.add(
                amount,
                {
                    "best": due,
                    "expected": due + timedelta(days=round(avg_late)),
                    "worst": due + timedelta(days=max_late),
                },
            )
        for amount, day, worst, partner_id in covered:
            max_late = behaviour.get(partner_id, (0.0, 0))[1]
            worst = worst or day + timedelta(days=max_late)
            periods.add(amount, {"best": day, "expected": day, "worst": worst})
        return periods.rounded(self.env.company.currency_id)


class _ForecastPeriods:
    """The forecast's 13 weeks (from this week's Monday) and six months (from this month), each
    with its best, expected and worst receipts; a date before today counts today."""

    def __init__(self, today):
        self.today = today
        self.week_start = today - timedelta(days=today.weekday())
        self.month_start = today.replace(day=1)
        self.weeks = [
            {"start": self.week_start + timedelta(weeks=i), "best": 0.0, "expected": 0.0, "worst": 0.0}
            for i in range(13)
        ]
        self.months = [
            {"start": self.month_start + relativedelta(months=i), "best": 0.0, "expected": 0.0, "worst": 0.0}
            for i in range(6)
        ]

    def add(self, amount, dates):
        """Add ``amount`` to the week and month of each of ``dates`` ({"best": date, …})."""
        for key, day in dates.items():
            paid_on = max(day, self.today)
            week = (paid_on - self.week_start).days // 7
            month = (paid_on.year - self.month_start.year) * 12 + paid_on.month - self.month_start.month
            if 0 <= week < len(self.weeks):
                self.weeks[week][key] += amount
            if 0 <= month < len(self.months):
                self.months[month][key] += amount

    def rounded(self, currency):
        for period in self.weeks + self.months:
            for key in ("best", "expected", "worst"):
                period[key] = currency.round(period[key])
        return {"weeks": self.weeks, "months": self.months}
