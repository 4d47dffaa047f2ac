from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class CreditCollectionTarget(models.Model):
    """A collector's target for a month: the amount to collect on the customers they own (the
    customers whose Credit Manager, in the target's company, is the collector), and what was
    actually collected — customer payments reconciled in that month with those customers'
    receivables (company currency; credit notes and write-offs are not collections)."""

    _name = "credit.collection.target"
    _description = "Collection Target"
    _order = "month desc, user_id"
    _check_company_auto = True
    _rec_name = "user_id"

    # === FIELDS === #
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, readonly=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    month = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1),
        help="Any day of the month; stored as its first day.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Collector",
        required=True,
        index=True,
        domain="[('share', '=', False)]",
        help="Collector (the customers' Credit Manager) the target is set for.",
    )
    target_amount = fields.Monetary(string="Target", required=True)
    collected_amount = fields.Monetary(
        string="Collected",
        readonly=True,
        aggregator="sum",
        help="Customer payments reconciled in the month with receivables of the collector's customers.",
    )
    achievement = fields.Float(
        string="Achievement (%)",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Collected ÷ target × 100.",
    )
    date_computed = fields.Datetime(string="Collected As Of", readonly=True)

    _sql_constraints = [
        (
            "user_month_uniq",
            "unique (company_id, user_id, month)",
            "A collector has one target per month and company.",
        )
    ]

    # === CONSTRAINTS === #
    @api.constrains("target_amount")
    def _check_target_amount(self):
        for target in self:
            if target.target_amount <= 0:
                raise ValidationError(
                    _(
                        "The collection target of %(user)s must be a positive amount.",
                        user=target.user_id.display_name,
                    )
                )

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("month"):
                vals["month"] = fields.Date.to_date(vals["month"]).replace(day=1)
        targets = super().create(vals_list)
        targets._refresh_collected()
        return targets

    def write(self, vals):
        if vals.get("month"):
            vals["month"] = fields.Date.to_date(vals["month"]).replace(day=1)
        result = super().write(vals)
        if {"month", "user_id", "target_amount"} & set(vals):
            self._refresh_collected()
        return result

    # === ACTIONS === #
    @api.model
    def action_open(self):
        """Collection Targets menu: refresh the collected amounts of the current company's
        targets of the last 13 months, then list them."""
        since = fields.Date.context_today(self).replace(day=1) - relativedelta(months=12)
        self.search([("company_id", "=", self.env.company.id), ("month", ">=", since)])._refresh_collected()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "credit_control.credit_collection_target_action"
        )
        action["context"] = {"search_default_this_year": 1}
        return action

    def action_refresh(self):
        self._refresh_collected()
        return True

    # === BUSINESS METHODS === #
    def _refresh_collected(self):
        """Write collected amount and achievement of these targets: one query for all of them."""
        if not self:
            return
        self.env["account.move.line"].flush_model(["account_id", "partner_id", "company_id", "move_id"])
        self.env["account.partial.reconcile"].flush_model(
            ["amount", "max_date", "debit_move_id", "credit_move_id"]
        )
        self.env["res.partner"].flush_model(["credit_manager_id", "commercial_partner_id"])
        self.flush_recordset(["company_id", "user_id", "month"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT t.id, COALESCE(SUM(pr.amount), 0)
              FROM credit_collection_target t
              JOIN res_partner cp ON (cp.credit_manager_id ->> t.company_id::text)::int = t.user_id
              JOIN res_partner p ON p.commercial_partner_id = cp.id
              JOIN account_move_line il ON il.partner_id = p.id AND il.company_id = t.company_id
              JOIN account_account a ON a.id = il.account_id AND a.account_type = 'asset_receivable'
              JOIN account_partial_reconcile pr ON pr.debit_move_id = il.id
              JOIN account_move_line pl ON pl.id = pr.credit_move_id
              JOIN account_move pm ON pm.id = pl.move_id
             WHERE t.id IN %(ids)s
               AND pr.max_date >= t.month AND pr.max_date < t.month + interval '1 month'
               AND (pm.origin_payment_id IS NOT NULL OR pm.statement_line_id IS NOT NULL)
          GROUP BY t.id
                """,
                ids=tuple(self.ids),
            )
        )
        collected = dict(rows)
        now = fields.Datetime.now()
        for target in self:
            amount = target.currency_id.round(collected.get(target.id, 0.0))
            # sudo: collectors open the list (and so refresh it) but may not change targets
            target.sudo().write(
                {
                    "collected_amount": amount,
                    "achievement": 100.0 * amount / target.target_amount if target.target_amount else 0.0,
                    "date_computed": now,
                }
            )
