"""Receivables KPIs: write-offs, dunning, credit decisions and promises per month."""

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import SQL

# payments in the days after a dunning letter count as collected by it
DUNNING_WINDOW_DAYS = 14
# write-offs debit a loss account of one of these types (a cash discount account is excluded)
LOSS_ACCOUNT_TYPES = ("expense", "expense_direct_cost")


class CreditKpi(models.AbstractModel):
    _inherit = "credit.kpi"

    # === WRITE-OFFS === #
    @api.model
    def _write_offs_by_month(self, date_from, date_to):
        """Long for one SQL statement.

        {first day of month: (receivables written off, ids of the write-off entries)}, company
        currency, net of reversals.

        A write-off is (a) a journal entry (not an invoice, credit note, payment or bank statement
        line) that credits a customer's receivable against a loss account: the receivable amount
        it credits; or (b) the part of a customer payment booked to a loss account ("mark as fully
        paid" with a write-off account): that loss line. Cash discounts (the company's cash
        discount loss account), exchange differences and cash-basis tax entries are no write-offs;
        credit notes neither (they already reduce the credit sales), except the write-off wizard's
        (``credit.write.off.entry``): they count here, net of their reversals, and not as sales."""
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
        result = {}
        for month, amount, move_ids in rows + self._write_off_credit_notes_by_month(date_from, date_to):
            previous, previous_ids = result.get(month, (0.0, []))
            result[month] = (previous + (amount or 0.0), previous_ids + list(move_ids))
        return {
            month: (company.currency_id.round(amount), move_ids)
            for month, (amount, move_ids) in result.items()
        }

    @api.model
    def _write_off_credit_notes_by_month(self, date_from, date_to):
        """[(first day of month, amount, move ids)]: the credit notes of the write-off wizard
        (``credit.write.off.entry``, taxes included: the §17 UStG VAT correction is part of the
        receivable written off) minus their reversals when a write-off is undone, by entry date."""
        self.env["credit.write.off.entry"].flush_model(["refund_id", "reversal_id", "company_id"])
        self.env["account.move"].flush_model(["date", "state", "amount_total_signed"])
        return self.env.execute_query(
            SQL(
                """
            SELECT date_trunc('month', m.date)::date, SUM(-m.amount_total_signed), ARRAY_AGG(m.id)
              FROM credit_write_off_entry e
              JOIN account_move m ON m.id IN (e.refund_id, e.reversal_id)
             WHERE e.company_id = %(company_id)s AND m.state = 'posted'
               AND m.date BETWEEN %(date_from)s AND %(date_to)s
          GROUP BY 1
                """,
                company_id=self.env.company.id,
                date_from=date_from,
                date_to=date_to,
            )
        )

    @api.model
    def _write_off_move_ids(self, date_from, date_to):
        """Ids of the write-off credit notes and their reversals dated in the period: no credit
        sales (they count as write-offs)."""
        return [
            move_id
            for _month, _amount, move_ids in self._write_off_credit_notes_by_month(date_from, date_to)
            for move_id in move_ids
        ]

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
        order = {level.id: level._rank() for level in levels}
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
