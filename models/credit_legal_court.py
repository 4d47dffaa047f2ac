from odoo import fields, models


class CreditLegalCourt(models.Model):
    """A central dunning court (zentrales Mahngericht) and the federal states of the applicants
    it serves (§689(3) ZPO): data, kept up to date by the user."""

    _name = "credit.legal.court"
    _description = "Central Dunning Court"
    _order = "name"

    # === FIELDS === #
    name = fields.Char(required=True, translate=False)
    state_ids = fields.Many2many(
        "res.country.state",
        "credit_legal_court_state_rel",
        "court_id",
        "state_id",
        string="Federal States",
        help="Applicants with their seat in these federal states apply at this court.",
    )
    street = fields.Char()
    zip = fields.Char()
    city = fields.Char()
    note = fields.Char(help="Special competence, e.g. only part of a federal state.")
    active = fields.Boolean(default=True)
