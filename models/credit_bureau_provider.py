from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The columns of a bureau file the import reads: field of the provider naming the column header,
# with the label the import uses in its messages.
MAPPED_COLUMNS = (
    "col_identifier",
    "col_vat",
    "col_register",
    "col_name",
    "col_score",
    "col_risk_class",
    "col_default_probability",
    "col_recommended_limit",
    "col_currency",
    "col_report_date",
    "col_valid_until",
)

# Values of a negative flag column that mean "no flag".
FLAG_EMPTY_VALUES = frozenset({"", "0", "no", "n", "false", "nein", "-", "none", "keine"})


class CreditBureauProvider(models.Model):
    """A credit bureau whose result files the credit team imports: the file format, which
    column holds what, and the score scale with its direction."""

    _name = "credit.bureau.provider"
    _description = "Credit Bureau Provider"
    _order = "sequence, name, id"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Empty: every company uses this provider (a preset or a shared mapping).",
    )
    # file format
    file_format = fields.Selection([("csv", "CSV"), ("xlsx", "Excel (XLSX)")], required=True, default="csv")
    csv_delimiter = fields.Selection(
        [(";", "Semicolon"), (",", "Comma"), ("\t", "Tab"), ("|", "Pipe")],
        string="Delimiter",
        default=";",
    )
    csv_encoding = fields.Selection(
        [("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "ISO 8859-1")],
        string="Encoding",
        default="utf-8-sig",
    )
    decimal_comma = fields.Boolean(
        default=True, help="Numbers are written as 1.234,56 (German) instead of 1,234.56."
    )
    date_format = fields.Char(
        default="%d.%m.%Y",
        required=True,
        help="Format of the dates in the file (Python strftime), e.g. %d.%m.%Y or %Y-%m-%d. "
        "Dates in ISO form (2026-12-31) and Excel dates are always read.",
    )
    # score scale
    score_scale_min = fields.Float(string="Scale From", required=True, default=0.0, digits=(16, 2))
    score_scale_max = fields.Float(string="Scale To", required=True, default=100.0, digits=(16, 2))
    score_direction = fields.Selection(
        [("higher", "Higher Is Better"), ("lower", "Lower Is Better")],
        string="Direction",
        required=True,
        default="higher",
        help="Lower is better: a low value means a low risk (e.g. an index where 100 is excellent "
        "and 600 is default). The module's score (0-100) always has 100 as the lowest risk.",
    )
    # column mapping: the header of the column in the file
    col_identifier = fields.Char(string="Identifier Column", help="The bureau's number of the company.")
    col_vat = fields.Char(string="VAT Column")
    col_register = fields.Char(string="Register Number Column", help="Commercial register number (HRB ...).")
    col_name = fields.Char(string="Name Column")
    col_score = fields.Char(string="Score Column", required=True)
    col_risk_class = fields.Char(string="Risk Class Column")
    col_default_probability = fields.Char(
        string="Probability of Default Column", help="In percent (1,5 = 1.5 %)."
    )
    col_recommended_limit = fields.Char(string="Recommended Limit Column")
    col_currency = fields.Char(
        string="Currency Column", help="ISO code of the recommended limit; empty: the company currency."
    )
    col_report_date = fields.Char(string="Report Date Column")
    col_valid_until = fields.Char(string="Valid Until Column")
    col_negative_flags = fields.Char(
        string="Negative Flag Columns",
        help="Headers of the columns that mark a negative fact (insolvency, enforcement, protest ...), "
        "comma-separated. Any value other than empty, 0, no or false sets the flag.",
    )
    identifier_ids = fields.One2many("credit.bureau.identifier", "provider_id", string="Customer Identifiers")

    # === CONSTRAINTS === #
    @api.constrains("score_scale_min", "score_scale_max")
    def _check_scale(self):
        for provider in self:
            if provider.score_scale_min >= provider.score_scale_max:
                raise ValidationError(
                    self.env._(
                        "The score scale of bureau %(provider)s must start below its end.",
                        provider=provider.display_name,
                    )
                )

    # col_score (required) makes the check run at create, when no key column is given
    @api.constrains("col_score", "col_identifier", "col_vat", "col_register", "col_name")
    def _check_match_columns(self):
        for provider in self:
            if not any(provider[name] for name in ("col_identifier", "col_vat", "col_register", "col_name")):
                raise ValidationError(
                    self.env._(
                        "Bureau %(provider)s needs at least one column to find the customer: "
                        "identifier, VAT, register number or name.",
                        provider=provider.display_name,
                    )
                )

    # === BUSINESS METHODS === #
    def _negative_flag_columns(self):
        self.ensure_one()
        return [name.strip() for name in (self.col_negative_flags or "").split(",") if name.strip()]

    def _column_map(self):
        """{key: header} of the mapped columns (key without the ``col_`` prefix)."""
        self.ensure_one()
        return {name[4:]: self[name].strip() for name in MAPPED_COLUMNS if self[name] and self[name].strip()}
