import calendar
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib.open_items import RECEIVABLE_ACCOUNT_IDS, open_receivable_where
from .credit_aging_report import BUCKETS

DUNNING_WINDOW_DAYS = 14
# write-offs debit a loss account of one of these types (a cash discount account is excluded)
LOSS_ACCOUNT_TYPES = ("expense", "expense_direct_cost")


class CreditKpi(models.AbstractModel):
    """Receivables KPIs of the current company per month, computed from the ledger and the
    credit records (decisions, dunning letters, promises); definitions in the README.

    Every KPI is computed for a whole range of months at once, one query per KPI (not one per
    month, never one per invoice): :meth:`_compute_months`."""

    _name = "credit.kpi"
    _description = "Receivables KPIs"

    # === RECEIVABLES AND SALES === #
    @api.model
    def _receivable_accounts(self):
        """The receivable accounts, as a sub-select for ``account_id = ANY(...)``: joined with
        account_account instead, the receivable journal items are estimated at a fraction of
        their number and their partials read by an index probe per item (nested loop) instead
        of one hash join."""
        return RECEIVABLE_ACCOUNT_IDS

    @api.model
    def _receivables_at(self, dates):
        """{date: {"total", "current", "overdue"}} of the receivables open at the end of each of
        ``dates``, as the aging (:class:`credit.aging.report`) computes them (only reconciliations
        dated on or before the date count): total = the receivable balance up to the date (open
        credits such as unallocated credit notes and payments reduce it); current / overdue = the
        open amount of the debit items (invoices) not yet due / due before the date, net of the
        customer's open credits, which offset its oldest (overdue) invoices first. So current +
        overdue = total + the credit balances of customers whose credits exceed their invoices.
        One query for all dates: lines and partials are summed per (customer, first date they
        count at, first date they are overdue at), each date's figures are running sums of those."""
        dates = sorted(set(dates))
        if not dates:
            return {}
        self.env["account.move.line"].flush_model(
            ["balance", "date", "date_maturity", "parent_state", "partner_id", "account_id", "company_id"]
        )
        self.env["account.partial.reconcile"].flush_model(
            ["amount", "max_date", "debit_move_id", "credit_move_id"]
        )
        # Each date's open amounts per customer, without joining every journal item to every
        # date: an item counts from the first date on or after its own (from), and moves from
        # current to overdue at the first date after its due date (to_overdue); a partial
        # likewise from its date. The items are summed per (customer, from, to_overdue) in one
        # pass, the dates' values are the running sums of those few groups.
        count = len(dates)
        rows = self.env.execute_query(
            SQL(
                """
            -- JIT compilation costs about a second here and saves nothing (SET LOCAL: this
            -- transaction only, as in the aging; in the same statement, no query more)
            SET LOCAL jit = off;
            WITH lines AS (
                SELECT p.commercial_partner_id AS partner_id,
                       width_bucket(l.date - 1, %(dates)s::date[]) + 1 AS from_index,
                       GREATEST(width_bucket(l.date - 1, %(dates)s::date[]),
                                width_bucket(COALESCE(l.date_maturity, l.date), %(dates)s::date[])) + 1
                           AS overdue_index,
                       l.balance > 0 AS is_debit,
                       SUM(l.balance) AS amount
                  FROM account_move_line l
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE l.account_id = ANY(%(receivable)s) AND l.company_id = %(company_id)s
                   AND l.parent_state = 'posted' AND l.date <= %(last)s
              GROUP BY 1, 2, 3, 4
            ), debit_partials AS (
                -- a partial reduces the open amount of its debit line
                SELECT p.commercial_partner_id AS partner_id,
                       width_bucket(pr.max_date - 1, %(dates)s::date[]) + 1 AS from_index,
                       GREATEST(width_bucket(pr.max_date - 1, %(dates)s::date[]),
                                width_bucket(COALESCE(l.date_maturity, l.date), %(dates)s::date[])) + 1
                           AS overdue_index,
                       SUM(pr.amount) AS amount
                  FROM account_partial_reconcile pr
                  JOIN account_move_line l ON l.id = pr.debit_move_id
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE l.account_id = ANY(%(receivable)s) AND l.company_id = %(company_id)s
                   AND pr.max_date <= %(last)s AND l.balance > 0
              GROUP BY 1, 2, 3
            ), changes AS (
                -- (customer, date index, change of total, of current, of overdue)
                SELECT partner_id, from_index AS i, amount AS total,
                       CASE WHEN is_debit THEN amount ELSE 0 END AS current, 0 AS overdue
                  FROM lines
                 UNION ALL
                SELECT partner_id, overdue_index, 0, -amount, amount
                  FROM lines WHERE is_debit AND overdue_index <= %(count)s
                 UNION ALL
                SELECT partner_id, from_index, 0, -amount, 0
                  FROM debit_partials
                 UNION ALL
                SELECT partner_id, overdue_index, 0, amount, -amount
                  FROM debit_partials WHERE overdue_index <= %(count)s
            ), changes_per_customer AS (
                SELECT partner_id, i, SUM(total) AS total, SUM(current) AS current, SUM(overdue) AS overdue
                  FROM changes
              GROUP BY 1, 2
            ), open_per_customer AS (
                -- each customer's figures at each date: the running sums of its changes
                SELECT e.i,
                       SUM(c.total) OVER running AS total,
                       SUM(c.current) OVER running AS current,
                       SUM(c.overdue) OVER running AS overdue
                  FROM (SELECT DISTINCT partner_id FROM changes_per_customer) cp
                 CROSS JOIN generate_series(1, %(count)s) AS e(i)
                  LEFT JOIN changes_per_customer c ON c.partner_id = cp.partner_id AND c.i = e.i
                WINDOW running AS (PARTITION BY cp.partner_id ORDER BY e.i ROWS UNBOUNDED PRECEDING)
            )
            -- the customer's open credits (open invoices - balance) offset its oldest invoices
            -- first: the overdue ones, then the current ones
            SELECT e.i,
                   COALESCE(SUM(o.total), 0),
                   COALESCE(SUM(GREATEST(0, o.current
                       - GREATEST(0, GREATEST(0, o.current + o.overdue - o.total) - o.overdue))), 0),
                   COALESCE(SUM(GREATEST(0, o.overdue - GREATEST(0, o.current + o.overdue - o.total))), 0)
              FROM generate_series(1, %(count)s) AS e(i)
              LEFT JOIN open_per_customer o ON o.i = e.i
          GROUP BY e.i
                """,
                company_id=self.env.company.id,
                last=dates[-1],
                dates=dates,
                count=count,
                receivable=self._receivable_accounts(),
            )
        )
        currency = self.env.company.currency_id
        result = {}
        for index, total, current, overdue in rows:
            result[dates[index - 1]] = {
                "total": currency.round(total),
                "current": currency.round(current),
                "overdue": currency.round(overdue),
            }
        return result

    @api.model
    def _aging_buckets(self, as_of):
        """{bucket key: open amount} of the receivables as of ``as_of``, bucketed by days past due
        as the aging (:class:`credit.aging.report`) does — each item at its own due date, net of
        the customer's open credits (oldest first) — but in one aggregate query (open amounts
        summed per customer and due date first), for the dashboard's bars. Only the items that
        can be open as of the date are read (open now, or settled by a reconciliation dated after
        it), as in the aging. Keys: those of ``BUCKETS``, ``credit`` (unapplied credits, negative)
        and ``open`` (the total: buckets + credit = the receivable balance)."""
        as_of = fields.Date.to_date(as_of)
        self.env["account.move.line"].flush_model(
            [
                "balance",
                "date",
                "date_maturity",
                "parent_state",
                "partner_id",
                "account_id",
                "company_id",
                "reconciled",
            ]
        )
        self.env["account.partial.reconcile"].flush_model(
            ["amount", "max_date", "debit_move_id", "credit_move_id"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            SET LOCAL jit = off;  -- as in _receivables_at
            WITH candidates AS (
                -- the items that can be open as of the date: open now, or settled by a
                -- reconciliation dated after it (an item settled on or before the date is 0)
                SELECT l.id, p.commercial_partner_id AS partner_id, COALESCE(l.date_maturity, l.date) AS due,
                       l.balance
                  FROM account_move_line l
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE %(open_items)s
            ), settled AS (
                -- a partial reduces the open amount of its debit line and raises that of its credit line
                SELECT line_id, SUM(amount) AS amount
                  FROM (SELECT pr.debit_move_id AS line_id, pr.amount
                          FROM account_partial_reconcile pr
                         WHERE pr.max_date <= %(as_of)s AND pr.debit_move_id IN (SELECT id FROM candidates)
                         UNION ALL
                        SELECT pr.credit_move_id, -pr.amount
                          FROM account_partial_reconcile pr
                         WHERE pr.max_date <= %(as_of)s AND pr.credit_move_id IN (SELECT id FROM candidates)
                       ) partials
              GROUP BY line_id
            ), open_by_due AS (
                SELECT c.partner_id, c.due, c.balance - COALESCE(s.amount, 0) AS amount
                  FROM candidates c
                  LEFT JOIN settled s ON s.line_id = c.id
            ), per_due AS (
                SELECT partner_id, due, SUM(amount) AS amount
                  FROM open_by_due
              GROUP BY 1, 2
                HAVING SUM(amount) <> 0
            ), netted AS (
                -- the customer's open credits offset its oldest open amounts first; what they do
                -- not absorb is the customer's unapplied credit
                SELECT due,
                       CASE WHEN amount > 0 THEN GREATEST(0, LEAST(amount,
                            SUM(GREATEST(amount, 0)) OVER (PARTITION BY partner_id ORDER BY due
                                                           ROWS UNBOUNDED PRECEDING)
                            - SUM(GREATEST(-amount, 0)) OVER (PARTITION BY partner_id))) ELSE 0 END AS net,
                       CASE WHEN amount < 0 THEN -GREATEST(0, LEAST(-amount,
                            SUM(GREATEST(-amount, 0)) OVER (PARTITION BY partner_id ORDER BY due
                                                            ROWS UNBOUNDED PRECEDING)
                            - SUM(GREATEST(amount, 0)) OVER (PARTITION BY partner_id))) ELSE 0 END AS credit
                  FROM per_due
            )
            SELECT CASE WHEN %(as_of)s::date - due <= 0 THEN 'not_due'
                        WHEN %(as_of)s::date - due <= 30 THEN '1_30'
                        WHEN %(as_of)s::date - due <= 60 THEN '31_60'
                        WHEN %(as_of)s::date - due <= 90 THEN '61_90'
                        WHEN %(as_of)s::date - due <= 180 THEN '91_180'
                        ELSE '180_plus' END,
                   SUM(net), SUM(credit)
              FROM netted
          GROUP BY 1
                """,
                as_of=as_of,
                open_items=open_receivable_where(company_id=self.env.company.id, as_of=as_of),
            )
        )
        currency = self.env.company.currency_id
        result = {key: 0.0 for key, _label in BUCKETS}
        result.update({key: currency.round(amount or 0.0) for key, amount, _credit in rows})
        result["credit"] = currency.round(sum(credit or 0.0 for _key, _amount, credit in rows))
        result["open"] = currency.round(sum(result.values()))
        return result

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

    # === WRITE-OFFS === #
    @api.model
    def _write_offs_by_month(self, date_from, date_to):
        """{first day of month: (receivables written off, ids of the write-off entries)}, company
        currency, net of reversals.

        A write-off is (a) a journal entry (not an invoice, credit note, payment or bank statement
        line) that credits a customer's receivable against a loss account: the receivable amount
        it credits; or (b) the part of a customer payment booked to a loss account ("mark as fully
        paid" with a write-off account): that loss line. Cash discounts (the company's cash
        discount loss account), exchange differences and cash-basis tax entries are no write-offs;
        credit notes neither (they already reduce the credit sales)."""
        company = self.env.company
        self.env["account.move.line"].flush_model(["balance", "account_id", "move_id", "partner_id"])
        self.env["account.move"].flush_model(
            [
                "date",
                "state",
                "move_type",
                "company_id",
                "journal_id",
                "origin_payment_id",
                "statement_line_id",
            ]
        )
        rows = self.env.execute_query(
            SQL(
                """
            WITH moves AS (
                SELECT m.id, m.date,
                       (m.origin_payment_id IS NOT NULL OR m.statement_line_id IS NOT NULL) AS is_payment,
                       SUM(-l.balance) FILTER (WHERE a.account_type = 'asset_receivable'
                                                 AND l.partner_id IS NOT NULL) AS receivable_credit,
                       SUM(l.balance) FILTER (WHERE a.account_type IN %(loss_types)s
                                                AND l.account_id IS DISTINCT FROM %(discount)s) AS loss
                  FROM account_move m
                  JOIN account_move_line l ON l.move_id = m.id
                  JOIN account_account a ON a.id = l.account_id
                 WHERE m.company_id = %(company_id)s AND m.state = 'posted' AND m.move_type = 'entry'
                   AND m.date BETWEEN %(date_from)s AND %(date_to)s
                   AND m.tax_cash_basis_rec_id IS NULL
                   AND m.journal_id IS DISTINCT FROM %(exchange_journal)s
              GROUP BY m.id
            )
            SELECT date_trunc('month', date)::date,
                   SUM(CASE WHEN is_payment THEN loss ELSE receivable_credit END),
                   ARRAY_AGG(id)
              FROM moves
             WHERE loss <> 0 AND receivable_credit <> 0
          GROUP BY 1
                """,
                company_id=company.id,
                date_from=date_from,
                date_to=date_to,
                loss_types=LOSS_ACCOUNT_TYPES,
                discount=company.account_journal_early_pay_discount_loss_account_id.id or None,
                exchange_journal=company.currency_exchange_journal_id.id or None,
            )
        )
        return {
            month: (company.currency_id.round(amount or 0.0), move_ids) for month, amount, move_ids in rows
        }

    # === DUNNING === #
    @api.model
    def _dunning_by_month(self, date_from, date_to):
        """{first day of month: [{"level_id", "level", "dunned", "paid", "share"}, …]}: the open
        amount of the invoices in the company's validated dunning letters of the month, per level
        the invoice reached with the letter, and how much of it customers paid (payments and bank
        statement lines reconciled with the invoice, not credit notes) in the 14 days after the
        letter's date (a payment on the letter's day was in the run already), at most the dunned
        amount."""
        self.env["credit.dunning.line"].flush_model(
            ["letter_id", "move_id", "level_id", "line_type", "amount_residual_company"]
        )
        self.env["credit.dunning.letter"].flush_model(["state", "dunning_date", "company_id"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT date_trunc('month', letter.dunning_date)::date, dl.level_id,
                   SUM(dl.amount_residual_company),
                   SUM(LEAST(dl.amount_residual_company, COALESCE(paid.amount, 0)))
              FROM credit_dunning_line dl
              JOIN credit_dunning_letter letter ON letter.id = dl.letter_id
              LEFT JOIN LATERAL (
                    SELECT SUM(pr.amount) AS amount
                      FROM account_move_line il
                      JOIN account_account a ON a.id = il.account_id AND a.account_type = 'asset_receivable'
                      JOIN account_partial_reconcile pr ON pr.debit_move_id = il.id
                      JOIN account_move_line pl ON pl.id = pr.credit_move_id
                      JOIN account_move pm ON pm.id = pl.move_id
                     WHERE il.move_id = dl.move_id
                       AND (pm.origin_payment_id IS NOT NULL OR pm.statement_line_id IS NOT NULL)
                       AND pr.max_date > letter.dunning_date
                       AND pr.max_date <= letter.dunning_date + %(window)s
              ) paid ON TRUE
             WHERE letter.company_id = %(company_id)s AND letter.state = 'done'
               AND dl.line_type = 'invoice' AND dl.level_id IS NOT NULL
               AND letter.dunning_date BETWEEN %(date_from)s AND %(date_to)s
          GROUP BY 1, 2
                """,
                company_id=self.env.company.id,
                date_from=date_from,
                date_to=date_to,
                window=DUNNING_WINDOW_DAYS,
            )
        )
        levels = self.env["credit.dunning.level"].sudo().browse({row[1] for row in rows})
        order = {level.id: (level.sequence, level.days, level.id) for level in levels}
        names = {level.id: level.name for level in levels}
        result = {}
        for month, level_id, dunned, paid in sorted(rows, key=lambda row: (row[0], order[row[1]])):
            result.setdefault(month, []).append(
                {
                    "level_id": level_id,
                    "level": names[level_id],
                    "dunned": dunned or 0.0,
                    "paid": paid or 0.0,
                    "share": 100.0 * paid / dunned if dunned else 0.0,
                }
            )
        return result

    # === CREDIT DECISIONS === #
    @api.model
    def _month_sql(self, column):
        """The first day of the month of a UTC timestamp ``column`` in the user's time zone."""
        return SQL(
            "date_trunc('month', (%s AT TIME ZONE 'UTC') AT TIME ZONE %s)::date",
            column,
            self.env.context.get("tz") or self.env.user.tz or "UTC",
        )

    @api.model
    def _decision_range(self, date_from, date_to):
        return SQL(
            "(d.create_date AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s >= %(date_from)s "
            "AND (d.create_date AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s < %(date_to)s",
            tz=self.env.context.get("tz") or self.env.user.tz or "UTC",
            date_from=date_from,
            date_to=date_to + relativedelta(days=1),
        )

    @api.model
    def _blocked_orders_by_month(self, date_from, date_to):
        """{first day of month: (count, amount)}: sale orders the credit check blocked in the
        month (credit.decision of type "block"), each order once, with the largest amount it was
        blocked with in that month (company currency)."""
        self.env["credit.decision"].flush_model(
            ["decision_type", "order_id", "amount", "company_id", "create_date"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            SELECT month, COUNT(*), SUM(amount)
              FROM (SELECT %(month)s AS month, d.order_id, MAX(d.amount) AS amount
                      FROM credit_decision d
                     WHERE d.company_id = %(company_id)s AND d.decision_type = 'block'
                       AND d.order_id IS NOT NULL AND %(range)s
                  GROUP BY 1, 2) orders
          GROUP BY 1
                """,
                month=self._month_sql(SQL("d.create_date")),
                company_id=self.env.company.id,
                range=self._decision_range(date_from, date_to),
            )
        )
        return {month: (count, amount or 0.0) for month, count, amount in rows}

    @api.model
    def _limit_customers_by_month(self, date_from, date_to):
        """{first day of month: number of customers a credit check found over their limit in the
        month} (distinct customers of credit.decision records whose first rule was the limit)."""
        self.env["credit.decision"].flush_model(["rule", "partner_id", "company_id", "create_date"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT %(month)s, COUNT(DISTINCT d.partner_id)
              FROM credit_decision d
             WHERE d.company_id = %(company_id)s AND d.rule = 'limit' AND %(range)s
          GROUP BY 1
                """,
                month=self._month_sql(SQL("d.create_date")),
                company_id=self.env.company.id,
                range=self._decision_range(date_from, date_to),
            )
        )
        return dict(rows)

    @api.model
    def _customers_over_limit_now(self):
        """Commercial partners over their credit limit now (live exposure, current company)."""
        # sudo: the count is a KPI of the credit team; the exposure reads journal items
        return self.env["res.partner"].sudo().search([("credit_over_limit", "=", True)]).commercial_partner_id

    # === PROMISES === #
    @api.model
    def _promises_by_month(self, date_from, date_to):
        """{first day of month: (kept, broken)}: promises to pay of the company due (promised
        date) in the month, by outcome. Promises still open are not decided yet and do not count."""
        if "credit.promise" not in self.env:
            return {}
        # sudo: the rate is a KPI of the credit team, whoever owns the promises
        groups = (
            self.env["credit.promise"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", self.env.company.id),
                    ("date_promised", ">=", date_from),
                    ("date_promised", "<=", date_to),
                    ("state", "in", ("kept", "broken")),
                ],
                ["date_promised:month", "state"],
                ["__count"],
            )
        )
        result = {}
        for month, state, count in groups:
            kept, broken = result.get(month, (0, 0))
            result[month] = (kept + count, broken) if state == "kept" else (kept, broken + count)
        return result

    # === THE KPIs === #
    @api.model
    def _compute_months(self, month_starts, today=None, over_limit_now=None):
        """One KPI dict per month of ``month_starts`` (first days of months, ascending).
        ``over_limit_now``: the number of customers over their limit now, when the caller has it."""
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
