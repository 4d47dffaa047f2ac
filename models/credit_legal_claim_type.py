from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CreditLegalClaimType(models.Model):
    """A claim of the court dunning catalogue (Katalognummer of the Hauptforderung), and which
    invoices it applies to: by journal, else by product category, else the default type."""

    _name = "credit.legal.claim.type"
    _description = "Court Dunning Claim Type"
    _order = "sequence, code"
    _rec_names_search = ["code", "name"]

    # === FIELDS === #
    sequence = fields.Integer(default=10)
    code = fields.Char(string="Catalogue Number", required=True)
    name = fields.Char(required=True, translate=True)
    is_default = fields.Boolean(
        string="Default", help="Used for invoices that no journal or product category maps."
    )
    journal_ids = fields.Many2many(
        "account.journal",
        "credit_legal_claim_type_journal_rel",
        "type_id",
        "journal_id",
        string="Journals",
        domain="[('type', '=', 'sale')]",
    )
    product_categ_ids = fields.Many2many(
        "product.category",
        "credit_legal_claim_type_categ_rel",
        "type_id",
        "categ_id",
        string="Product Categories",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [("code_unique", "UNIQUE(code)", "The catalogue number must be unique.")]

    # === COMPUTE === #
    @api.depends("code", "name")
    def _compute_display_name(self):
        for claim_type in self:
            claim_type.display_name = "%s %s" % (claim_type.code or "", claim_type.name or "")

    # === CONSTRAINTS === #
    @api.constrains("is_default", "active")
    def _check_single_default(self):
        if self.search_count([("is_default", "=", True)]) > 1:
            raise ValidationError(_("Only one claim type can be the default."))

    # === BUSINESS METHODS === #
    @api.model
    def _for_moves(self, moves):
        """{invoice id: claim type} for ``moves``: the type of the invoice's journal, else the
        type of the product category of most of its lines' amount, else the default type."""
        types = self.search([])
        default = types.filtered("is_default")[:1]
        by_journal, by_categ = {}, {}
        for claim_type in types:
            for journal in claim_type.journal_ids:
                by_journal.setdefault(journal.id, claim_type)
            for categ in claim_type.product_categ_ids:
                by_categ.setdefault(categ.id, claim_type)
        result = {}
        for move in moves:
            claim_type = by_journal.get(move.journal_id.id)
            if not claim_type and by_categ:
                weights = {}
                for line in move.invoice_line_ids.filtered("product_id"):
                    mapped = by_categ.get(line.product_id.categ_id.id)
                    if mapped:
                        weights[mapped] = weights.get(mapped, 0.0) + abs(line.price_subtotal)
                if weights:
                    claim_type = max(weights, key=weights.get)
            result[move.id] = claim_type or default
        return result
