from odoo import _, api, fields, models
from odoo.tools import SQL

from .res_partner import CREDIT_READ_GROUPS


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "credit.dunning.pause.mixin"]

    # === FIELDS: dunning === #
    credit_dunning_pause = fields.Boolean(
        string="Dunning Paused",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="No dunning letters for this customer while paused. Without an end date the customer "
        "is excluded from dunning ('no dunning').",
    )
    credit_dunning_pause_reason = fields.Char(
        string="Dunning Pause Reason", company_dependent=True, tracking=True, groups=CREDIT_READ_GROUPS
    )
    credit_dunning_pause_until = fields.Date(
        string="Dunning Paused Until",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="Dunning resumes by itself on this date.",
    )
    credit_dunning_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Dunning Level",
        compute="_compute_credit_dunning_level_id",
        groups=CREDIT_READ_GROUPS,
        help="Highest dunning level of the customer's open invoices in the current company.",
    )
    credit_dunning_count = fields.Integer(
        string="Dunning Letters Received", company_dependent=True, groups=CREDIT_READ_GROUPS
    )

    # === COMPUTE === #
    @api.depends_context("company")
    def _compute_credit_dunning_level_id(self):
        levels = self.commercial_partner_id._get_credit_dunning_levels()
        for partner in self:
            partner.credit_dunning_level_id = levels.get(partner.commercial_partner_id.id, False)

    # === ACTIONS === #
    def action_credit_dunning_send_now(self):
        """Propose a dunning run for these customers today, over all levels, and open it."""
        run = self.env["credit.dunning.run"]._create_runs(
            self.env.company, fields.Date.context_today(self), partners=self.commercial_partner_id
        )
        if not run:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {"message": _("Nothing to dun for these customers today."), "type": "warning"},
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": "credit.dunning.run",
            "res_id": run.id,
            "view_mode": "form",
        }

    # === BUSINESS METHODS === #
    def _credit_dunning_pause_records(self):
        # sudo: collectors pause and resume dunning without the right to edit customers
        return self.commercial_partner_id.sudo()

    def _credit_dunning_pause_wizard_context(self):
        return {"default_partner_ids": self.commercial_partner_id.ids}

    def _credit_dunning_resume_note(self):
        return _("Dunning resumed by %(user)s.", user=self.env.user.name)

    def _get_credit_dunning_levels(self):
        """Highest dunning level of the open invoices per commercial partner id (one query)."""
        # sudo: salespeople see the dunning level without reading the invoices
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "posted"),
                    ("move_type", "=", "out_invoice"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("credit_dunning_level_id", "!=", False),
                ],
                groupby=["commercial_partner_id", "credit_dunning_level_id"],
            )
        )
        highest = {}
        for partner, level in groups:
            current = highest.get(partner.id)
            if not current or level._rank() > current._rank():
                highest[partner.id] = level
        return {partner_id: level.with_env(self.env) for partner_id, level in highest.items()}

    def _credit_dunning_blocks_orders(self):
        """Whether an open invoice of this customer is at a dunning level that blocks new orders
        (called by the sales credit check on every confirmation: one indexed query, driven by
        the few invoices that carry a blocking level)."""
        self.ensure_one()
        self.env["account.move"].flush_model(
            [
                "credit_dunning_level_id",
                "commercial_partner_id",
                "company_id",
                "state",
                "move_type",
                "payment_state",
            ]
        )
        self.env["credit.dunning.level"].flush_model(["block_orders"])
        self.env.cr.execute(
            SQL(
                """
            SELECT 1
              FROM account_move m
             WHERE m.credit_dunning_level_id = ANY(
                       ARRAY(SELECT id FROM credit_dunning_level WHERE block_orders))
               AND m.commercial_partner_id = %(partner_id)s
               AND m.company_id = %(company_id)s
               AND m.state = 'posted'
               AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial')
             LIMIT 1
                """,
                partner_id=self.commercial_partner_id.id,
                company_id=self.env.company.id,
            )
        )
        return bool(self.env.cr.fetchone())

    def _refresh_credit_dunning_count(self):
        """Store the number of validated dunning letters per customer in the current company."""
        counts = dict(
            self.env["credit.dunning.letter"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "done"),
                ],
                groupby=["partner_id"],
                aggregates=["__count"],
            )
        )
        # sudo: collectors validate dunning runs without the right to edit customers
        for partner in self.commercial_partner_id.sudo().with_context(tracking_disable=True):
            partner.credit_dunning_count = counts.get(partner, 0)

    @api.model
    def _credit_dunning_resume_expired(self, date):
        """Resume the dunning of customers and invoices whose pause ended (logged)."""
        self.search(
            [("credit_dunning_pause", "=", True), ("credit_dunning_pause_until", "<=", date)]
        )._credit_dunning_resume()
        self.env["account.move"].search(
            [
                ("company_id", "=", self.env.company.id),
                ("credit_dunning_pause", "=", True),
                ("credit_dunning_pause_until", "<=", date),
            ]
        )._credit_dunning_resume()
