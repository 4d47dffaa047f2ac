from odoo import api, models
from odoo.tools import SQL

from ..lib.open_items import RECEIVABLE_ACCOUNT_IDS, open_receivable_where


class ResPartner(models.Model):
    """The exposure statement's SQL: its parts (open receivable items, draft invoices,
    uninvoiced orders) and the statement that unites them (res_partner_exposure.py computes
    the figures from its rows)."""

    _inherit = "res.partner"

    @api.model
    def _credit_exposure_partner_in(self, column, params):
        """``column`` is one of the commercial partners of the statement: with ``partners_cte``
        (several customers), one of the rows of the statement's ``credit_exposure_partners``
        (their ids given once: a long list of ids repeated in every part costs more to plan than
        to run), else ``= ANY(partner_ids)``."""
        if params.get("partners_cte"):
            return SQL("%s IN (SELECT id FROM credit_exposure_partners)", column)
        return SQL("%s = ANY(%s)", column, params["partner_ids"])

    @api.model
    def _credit_exposure_statement(self, params, lock=False):
        """The exposure statement (round trips are most of the cost of a small check): rows of
        ``(key, partner, currency, overdue, amount, amount in currency, oldest due date, rate)``.
        ``params``: values of :data:`EXPOSURE_FUNCTION_PARAMS` (or SQL naming them, for the
        database function).

        1. the aggregates (:meth:`_credit_exposure_receivable_sql`,
           :meth:`_credit_exposure_draft_invoices_sql`,
           :meth:`_credit_exposure_uninvoiced_orders_sql`);
        2. a ``rate`` row per currency of these rows and for the company currency: today's rate,
           as ``res.currency._get_rates`` reads it;
        3. a ``limit`` row per commercial partner: its own limit (amount) and whether it is set
           (overdue column), read from the rows the lock updates when ``lock`` is set.

        Long for the one statement it writes (its pieces are methods of their own).
        """
        rate = SQL(
            """COALESCE((SELECT r.rate FROM res_currency_rate r
                          WHERE r.currency_id = c.id AND r.name <= %s
                            AND (r.company_id IS NULL OR r.company_id = %s)
                       ORDER BY r.company_id, r.name DESC
                          LIMIT 1), 1.0)""",
            params["today"],
            params["root_company_id"],
        )
        limits = SQL(
            "SELECT id, credit_limit, credit_limit_set FROM res_partner WHERE %s",
            self._credit_exposure_partner_in(SQL("id"), params),
        )
        partners = SQL()
        if params.get("partners_cte"):
            partners = SQL(
                "credit_exposure_partners AS MATERIALIZED (SELECT unnest(%s::int[]) AS id),",
                params["partner_ids"],
            )
        lock_sql = SQL()
        if lock:
            lock_sql = SQL(
                """locked AS (
                %s
             RETURNING id, credit_limit, credit_limit_set
            ),""",
                self._credit_exposure_lock_sql(params),
            )
            limits = SQL("SELECT id, credit_limit, credit_limit_set FROM locked")
        return SQL(
            """
            WITH %(partners)s%(lock)s items AS (
                %(receivable)s
             UNION ALL
                %(draft_invoices)s
             UNION ALL
                %(uninvoiced_orders)s
            )
            SELECT i.*, NULL FROM items i
             UNION ALL
            SELECT 'rate', NULL, c.id, NULL, NULL, NULL, NULL, %(rate)s
              FROM res_currency c
             WHERE c.id IN (SELECT currency_id FROM items) OR c.id = %(company_currency_id)s
             UNION ALL
            SELECT 'limit', l.id, NULL, (l.credit_limit_set->>%(company_key)s)::boolean,
                   (l.credit_limit->>%(company_key)s)::numeric, NULL, NULL, NULL
              FROM (%(limits)s) l
            """,
            partners=partners,
            lock=lock_sql,
            limits=limits,
            receivable=self._credit_exposure_receivable_sql(params),
            draft_invoices=self._credit_exposure_draft_invoices_sql(params),
            uninvoiced_orders=self._credit_exposure_uninvoiced_orders_sql(params),
            rate=rate,
            company_currency_id=params["company_currency_id"],
            company_key=SQL("(%s)::text", params["company_id"]),
        )

    @api.model
    def _credit_exposure_lock_sql(self, params):
        """The update that locks the commercial partners' rows (see :meth:`_get_credit_exposures`)."""
        return SQL("UPDATE res_partner SET write_date = write_date WHERE id = ANY(%s)", params["partner_ids"])

    def _credit_exposure_receivable_sql(self, params):
        """Open receivable items, split into overdue (past-due debit items) and the rest:
        residual in company and in the line's currency (two plain sums; the line's currency
        picks one). Read from the running totals (``credit.exposure.total``: one row per
        partner, due date and sign instead of one per item) when their triggers are in force,
        else (never a stale total) from the open items themselves (``lib.open_items``, written
        for the covering index on open items). Items that are not the company's risk
        (``credit_exposure_excluded``) do not count."""
        in_force = params.get("in_force")
        if in_force is None:  # decided by the statement (the database function)
            in_force = self.env["credit.exposure.total"]._credit_totals_in_force_sql()
        accounts = RECEIVABLE_ACCOUNT_IDS
        if params.get("receivable_account_ids") is not None:
            accounts = SQL("%s::int[]", params["receivable_account_ids"])
        values = {
            "today": params["today"],
            "receivable_accounts": accounts,
            "company_id": params["company_id"],
            "partner_in": self._credit_exposure_partner_in(SQL("p.commercial_partner_id"), params),
        }
        totals = SQL(
            """
            SELECT 'receivable' AS key, p.commercial_partner_id AS partner_id, t.currency_id,
                   t.date_maturity < %(today)s AND t.debit AS overdue,
                   SUM(t.amount_residual) AS amount, SUM(t.amount_residual_currency) AS amount_currency,
                   MIN(t.date_maturity) AS min_due
              FROM credit_exposure_total t
              JOIN res_partner p ON p.id = t.partner_id
             WHERE %(in_force)s
               AND t.account_id = ANY(%(receivable_accounts)s)
               AND t.company_id = %(company_id)s
               AND %(partner_in)s
               AND t.items <> 0
          GROUP BY 2, 3, 4""",
            in_force=SQL("TRUE") if in_force is True else in_force,
            **values,
        )
        live = SQL(
            """
            SELECT 'receivable', p.commercial_partner_id, l.currency_id,
                   l.date_maturity < %(today)s AND l.amount_residual > 0,
                   SUM(l.amount_residual), SUM(l.amount_residual_currency), MIN(l.date_maturity)
              FROM account_move_line l
              JOIN res_partner p ON p.id = l.partner_id
             WHERE NOT %(in_force)s
               AND %(open_items)s
               AND %(partner_in)s
               AND l.credit_exposure_excluded IS NOT TRUE
          GROUP BY 2, 3, 4""",
            in_force=SQL("FALSE") if in_force is False else in_force,
            open_items=open_receivable_where(company_id=params["company_id"]),
            **values,
        )
        if in_force is True:
            return totals
        if in_force is False:
            return live
        return SQL("%s\n             UNION ALL%s\n            ", totals, live)

    def _credit_exposure_draft_invoices_sql(self, params):
        """Draft customer invoices (with taxes), whether or not they come from a sale order; each
        invoice counts at 0 or more (a draft credit note never frees credit)."""
        return SQL(
            """
            SELECT 'draft_invoices', d.commercial_partner_id, d.currency_id, FALSE,
                   SUM(GREATEST(d.amount, 0)), NULL, NULL
              FROM (SELECT m.commercial_partner_id, m.currency_id, SUM(l.price_total) AS amount
                      FROM account_move m
                      JOIN account_move_line l ON l.move_id = m.id
                     WHERE %(partner_in)s
                       AND m.company_id = %(company_id)s
                       AND m.state = 'draft'
                       AND m.move_type = 'out_invoice'
                       AND m.id <> ALL(%(exclude_move_ids)s)
                       AND l.display_type = 'product'
                  GROUP BY m.id) d
          GROUP BY 2, 3
            """,
            partner_in=self._credit_exposure_partner_in(SQL("m.commercial_partner_id"), params),
            **{key: params[key] for key in ("company_id", "exclude_move_ids")},
        )

    def _credit_exposure_uninvoiced_orders_sql(self, params):
        """Confirmed sale orders: the ordered quantity not yet on any invoice (a draft invoice
        counts as a draft invoice), valued at the line's total with taxes; each order at 0 or more
        (an order of a negative total never frees credit)."""
        return SQL(
            """
            SELECT 'uninvoiced_orders', o.commercial_partner_id, o.currency_id, FALSE,
                   SUM(GREATEST(o.amount, 0)), NULL, NULL
              FROM (SELECT p.commercial_partner_id, so.currency_id,
                           SUM(sol.price_total * GREATEST(sol.product_uom_qty - sol.qty_invoiced, 0)
                               / sol.product_uom_qty) AS amount
                      FROM sale_order so
                      JOIN sale_order_line sol ON sol.order_id = so.id
                      JOIN res_partner p ON p.id = so.partner_id
                     WHERE %(partner_in)s
                       AND so.company_id = %(company_id)s
                       AND so.state = 'sale'
                       AND so.id <> ALL(%(exclude_order_ids)s)
                       AND sol.display_type IS NULL
                       AND sol.product_uom_qty > 0
                       AND sol.qty_invoiced < sol.product_uom_qty
                  GROUP BY so.id, p.commercial_partner_id) o
          GROUP BY 2, 3
            """,
            partner_in=self._credit_exposure_partner_in(SQL("p.commercial_partner_id"), params),
            **{key: params[key] for key in ("company_id", "exclude_order_ids")},
        )
