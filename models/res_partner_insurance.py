from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .res_partner import CREDIT_READ_GROUPS


class ResPartner(models.Model):
    _inherit = "res.partner"

    # === FIELDS: credit insurance (per company, Credit Managers only: PROTECTED_CREDIT_FIELDS) === #
    # The insured limit belongs to a policy; the old policy number (credit_insurance_policy, a
    # Char) stays readable for customers recorded before policies existed.
    credit_insurance_policy_id = fields.Many2one(
        "credit.insurance.policy",
        string="Credit Insurance Policy",
        company_dependent=True,
        tracking=True,
        groups=CREDIT_READ_GROUPS,
        help="The policy that covers this customer's insured limit: its reporting deadline for "
        "overdue items and its claim period apply.",
    )

    # === ONCHANGE === #
    @api.onchange("credit_insurance_policy_id")
    def _onchange_credit_insurance_policy_id(self):
        for partner in self:
            if partner.credit_insurance_policy_id:
                partner.credit_insurer_id = partner.credit_insurance_policy_id.insurer_id

    # === ACTIONS === #
    def action_new_credit_insurance_notification(self):
        """Credit team: an overdue notification to the insurer for this customer, with its open
        overdue invoices."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        policy = commercial.sudo().credit_insurance_policy_id
        if not policy:
            raise UserError(
                _(
                    "%(partner)s is not insured under a credit insurance policy.",
                    partner=commercial.display_name,
                )
            )
        overdue = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", commercial.id),
                ("company_id", "=", self.env.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", fields.Date.context_today(self)),
            ]
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Overdue Notification"),
            "res_model": "credit.insurance.notification",
            "view_mode": "form",
            "context": {
                "default_kind": "overdue",
                "default_partner_id": commercial.id,
                "default_policy_id": policy.id,
                "default_move_ids": [fields.Command.set(overdue.ids)],
            },
        }

    # === BUSINESS METHODS === #
    def _credit_is_insured(self):
        """The commercial partner has an insurer or a policy in the current company."""
        self.ensure_one()
        commercial = self.commercial_partner_id.sudo()
        return bool(commercial.credit_insurance_policy_id or commercial.credit_insurer_id)

    def _credit_uninsured_part(self, exposure):
        """The part of ``exposure`` (company currency) above the insured limit; 0 for a customer
        without credit insurance."""
        self.ensure_one()
        if not self._credit_is_insured():
            return 0.0
        insured = self.commercial_partner_id.sudo().credit_insured_limit or 0.0
        currency = self.env.company.currency_id
        return currency.round(max(0.0, exposure - insured))
