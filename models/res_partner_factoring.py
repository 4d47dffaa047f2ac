from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..lib.protected_fields import drop_protected_defaults

# Set by Credit Managers only (the factor must agree to buy the customer's invoices).
FACTORING_PARTNER_FIELDS = frozenset({"credit_factoring_contract_id", "credit_factoring_limit"})


class ResPartner(models.Model):
    """The customer's factoring contract (per company) and the factor's purchase limit for it."""

    _inherit = "res.partner"

    # === FIELDS === #
    credit_factoring_contract_id = fields.Many2one(
        "credit.factoring.contract",
        string="Factoring Contract",
        company_dependent=True,
        tracking=True,
        domain="[('company_id', 'in', (False, current_company_id))]",
        help="The customer's invoices are sold to this contract's factor when they are posted. "
        "Credit Managers only.",
    )
    credit_factoring_limit = fields.Float(
        string="Factor's Purchase Limit",
        company_dependent=True,
        digits="Account",
        help="The most the factor buys of this customer; 0: the contract's purchase limit per "
        "debtor. Credit Managers only.",
    )
    credit_factoring_limit_effective = fields.Monetary(
        string="Purchase Limit in Force",
        compute="_compute_credit_factoring",
        currency_field="credit_currency_id",
    )
    credit_factoring_used = fields.Monetary(
        string="Sold and Open",
        compute="_compute_credit_factoring",
        currency_field="credit_currency_id",
        help="Open items of the customer's invoices sold to the factor (company currency).",
    )
    credit_factoring_over_limit = fields.Boolean(compute="_compute_credit_factoring")

    # === COMPUTE === #
    @api.depends_context("company")
    @api.depends("credit_factoring_contract_id", "credit_factoring_limit")
    def _compute_credit_factoring(self):
        assigned = self.commercial_partner_id.filtered("credit_factoring_contract_id")
        used = self.env["account.move"]._credit_factoring_used(assigned.ids, self.env.company)
        for partner in self:
            company = partner.commercial_partner_id
            partner.credit_factoring_limit_effective = company._credit_factoring_limit()
            partner.credit_factoring_used = used.get(company.id, 0.0)
            partner.credit_factoring_over_limit = bool(
                partner.credit_factoring_limit_effective
                and partner.credit_factoring_used > partner.credit_factoring_limit_effective
            )

    # === CONSTRAINTS === #
    @api.constrains("credit_factoring_limit")
    def _check_credit_factoring_limit(self):
        if any(partner.credit_factoring_limit < 0 for partner in self):
            raise ValidationError(_("The factor's purchase limit cannot be negative."))

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        return drop_protected_defaults(self, values, FACTORING_PARTNER_FIELDS, self._is_credit_manager())

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_credit_factoring_access(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_credit_factoring_access(vals)
        return super().write(vals)

    # === BUSINESS METHODS === #
    def _check_credit_factoring_access(self, vals):
        protected = FACTORING_PARTNER_FIELDS.intersection(vals)
        if protected and not self._is_credit_manager():
            raise AccessError(
                _(
                    "Only Credit Managers assign customers to factoring (%(fields)s).",
                    fields=self._credit_field_labels(protected),
                )
            )
        if vals.get("credit_factoring_contract_id"):
            contract = self.env["credit.factoring.contract"].browse(vals["credit_factoring_contract_id"])
            if contract.company_id != self.env.company:
                raise ValidationError(
                    _(
                        "The factoring contract %(contract)s belongs to another company than %(company)s.",
                        contract=contract.sudo().display_name,
                        company=self.env.company.name,
                    )
                )

    def _credit_factoring_limit(self):
        """The factor's purchase limit for this commercial partner in the current company."""
        self.ensure_one()
        return self.credit_factoring_limit or self.credit_factoring_contract_id.purchase_limit
