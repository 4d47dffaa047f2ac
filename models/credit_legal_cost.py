from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

COST_TYPES = [
    ("dunning_fee", "Dunning Fee"),
    ("flat_fee", "Flat Fee (§288(5) BGB)"),
    ("agency", "Collection Costs"),
    ("lawyer", "Lawyer's Fees"),
    ("court", "Court Fees"),
    ("other", "Other Costs"),
]


class CreditLegalCost(models.Model):
    """An ancillary item of a court dunning case (Auslagen und Nebenforderungen): a dunning
    fee, the flat fee of §288(5) BGB, or costs of earlier steps entered by the user."""

    _name = "credit.legal.cost"
    _description = "Court Dunning Ancillary Item"
    _order = "date, id"

    # === FIELDS === #
    case_id = fields.Many2one("credit.legal.case", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="case_id.company_id", store=True)
    currency_id = fields.Many2one(related="case_id.currency_id")
    cost_type = fields.Selection(COST_TYPES, string="Type", required=True, default="other")
    name = fields.Char(string="Description", required=True)
    date = fields.Date(default=fields.Date.context_today)
    amount = fields.Monetary(required=True)
    letter_id = fields.Many2one("credit.dunning.letter", string="Dunning Letter", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)

    # === CONSTRAINTS === #
    @api.constrains("amount")
    def _check_amount(self):
        if any(cost.amount <= 0 for cost in self):
            raise ValidationError(_("An ancillary item of a court dunning case needs a positive amount."))

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        cases = self.env["credit.legal.case"].browse([vals.get("case_id") for vals in vals_list])
        cases._check_costs_editable()
        return super().create(vals_list)

    def write(self, vals):
        self.case_id._check_costs_editable()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_draft_case(self):
        self.case_id._check_costs_editable()
