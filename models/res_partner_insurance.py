from odoo import api, fields, models

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
