from odoo import fields, models


class CreditBureauImportLine(models.TransientModel):
    """One row of an imported bureau file: the credit check it became, or why it was rejected."""

    _name = "credit.bureau.import.line"
    _description = "Credit Bureau Import Row"
    _order = "status desc, row, id"

    import_id = fields.Many2one("credit.bureau.import", required=True, ondelete="cascade", index=True)
    row = fields.Integer(help="Line of the file (the header is line 1).")
    status = fields.Selection([("rejected", "Rejected"), ("imported", "Imported")], required=True)
    identifier = fields.Char()
    name = fields.Char(string="Name in File")
    partner_id = fields.Many2one("res.partner", string="Customer")
    matched_by = fields.Selection(
        [
            ("identifier", "Bureau Identifier"),
            ("vat", "VAT"),
            ("register", "Register Number"),
            ("name", "Name"),
        ]
    )
    check_id = fields.Many2one("credit.check", string="Credit Check")
    reason = fields.Char()
