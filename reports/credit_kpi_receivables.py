"""Receivables KPIs: the receivables open at month ends and their aging, from the ledger."""

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib.open_items import INDEX_OPEN_ITEM, RECEIVABLE_ACCOUNT_IDS, open_receivable_where
from .credit_aging_report import BUCKETS


class CreditKpi(models.AbstractModel):
    _inherit = "credit.kpi"

    # === RECEIVABLES === #
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
        count at, first date they are overdue at), each date's figures are running sums of those.

        Long: one SQL statement (lines, partials, running sums per date) and the loop that reads it;
        split into pieces, the statement would no longer read as the one pass it is."""
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
        and ``open`` (the total: buckets + credit = the receivable balance).

        Long: one SQL statement (candidates, partials, netting, buckets), as the aging report's."""
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
                "amount_residual",
                "amount_residual_currency",
            ]
        )
        self.env["account.partial.reconcile"].flush_model(
            ["amount", "max_date", "debit_move_id", "credit_move_id"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            SET LOCAL jit = off;  -- as in _receivables_at
            WITH later AS (
                -- the partials dated after the date: what they settled was still open on it
                -- (one scan; a partial raises the open amount of its debit line and lowers,
                -- i.e. makes more negative, that of its credit line)
                SELECT side.line_id, SUM(side.amount) AS amount
                  FROM account_partial_reconcile pr
                 CROSS JOIN LATERAL (VALUES (pr.debit_move_id, pr.amount),
                                            (pr.credit_move_id, -pr.amount)) AS side(line_id, amount)
                 WHERE pr.max_date > %(as_of)s
              GROUP BY side.line_id
            ), candidates AS (
                -- the items that can be open as of the date: open now (read through the
                -- module's index on open items instead of a scan of every journal item), or
                -- settled by a partial dated after it; an item settled on or before the date is 0
                SELECT l.id, p.commercial_partner_id AS partner_id, COALESCE(l.date_maturity, l.date) AS due,
                       l.amount_residual
                  FROM account_move_line l
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE %(open_items)s AND l.date <= %(as_of)s
                 UNION
                SELECT l.id, p.commercial_partner_id, COALESCE(l.date_maturity, l.date), l.amount_residual
                  FROM later
                  JOIN account_move_line l ON l.id = later.line_id
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE l.account_id = ANY(%(receivable)s) AND l.company_id = %(company_id)s
                   AND l.parent_state = 'posted' AND l.date <= %(as_of)s
            ), open_by_due AS (
                -- open as of the date: the amount left now plus what the later partials took
                -- (= the balance less the partials dated on or before the date)
                SELECT c.partner_id, c.due, c.amount_residual + COALESCE(later.amount, 0) AS amount
                  FROM candidates c
                  LEFT JOIN later ON later.line_id = c.id
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
                open_items=open_receivable_where(company_id=self.env.company.id, index=INDEX_OPEN_ITEM),
                receivable=self._receivable_accounts(),
                company_id=self.env.company.id,
            )
        )
        currency = self.env.company.currency_id
        result = {key: 0.0 for key, _label in BUCKETS}
        result.update({key: currency.round(amount or 0.0) for key, amount, _credit in rows})
        result["credit"] = currency.round(sum(credit or 0.0 for _key, _amount, credit in rows))
        result["open"] = currency.round(sum(result.values()))
        return result
