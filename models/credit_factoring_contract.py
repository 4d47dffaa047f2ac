import csv
import io

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

FACTORING_TYPES = [("open", "Open (Disclosed)"), ("silent", "Silent (Undisclosed)")]


class CreditFactoringContract(models.Model):
    """Factoringvertrag: the company sells the invoices of the customers assigned to the
    contract to a factor.

    Open factoring: the debtor is told (assignment notice on the invoice) and pays the factor.
    Silent factoring: the debtor pays the company as before; the company may keep dunning on its
    own letterhead (``company_keeps_dunning``). Without recourse (echtes Factoring) the factor
    bears the default risk: the sold items leave the customer's credit exposure; with recourse
    (unechtes Factoring) they still count."""

    _name = "credit.factoring.contract"
    _description = "Factoring Contract"
    _inherit = ["mail.thread"]
    _order = "name, id"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(string="Contract", required=True, tracking=True)
    factor_id = fields.Many2one(
        "res.partner",
        string="Factor",
        required=True,
        tracking=True,
        check_company=True,
        help="The factoring company that buys the invoices.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True, tracking=True)
    factoring_type = fields.Selection(
        FACTORING_TYPES, string="Type", required=True, default="open", tracking=True
    )
    with_recourse = fields.Boolean(
        tracking=True,
        help="Unechtes Factoring: the factor may hand back unpaid invoices, so the default risk "
        "stays with the company and the sold invoices still count in the customer's exposure.",
    )
    company_keeps_dunning = fields.Boolean(
        tracking=True,
        help="Silent factoring only: the company keeps dunning the sold invoices on its own " "letterhead.",
    )
    bank_account_id = fields.Many2one(
        "res.partner.bank",
        string="Factor's Bank Account",
        tracking=True,
        domain="[('partner_id', '=', factor_id)]",
        help="Printed on the invoices of open factoring instead of the company's account.",
    )
    purchase_limit = fields.Monetary(
        string="Purchase Limit per Debtor",
        tracking=True,
        help="The most the factor buys of one customer (open sold items); a customer may have its "
        "own limit. 0: no limit.",
    )
    fee_percent = fields.Float(string="Fee (%)", digits=(5, 2), help="For information.")
    retention_percent = fields.Float(
        string="Retention (%)", digits=(5, 2), help="Share the factor keeps back until paid; for information."
    )
    date_start = fields.Date(string="Start Date", default=fields.Date.context_today)
    date_export_from = fields.Date(
        string="Export Invoices Assigned Since",
        help="The factor exports list the invoices assigned since this date.",
    )
    note = fields.Text()
    customer_count = fields.Integer(string="Customers", compute="_compute_counts")
    invoice_count = fields.Integer(string="Sold Invoices", compute="_compute_counts")

    # === COMPUTE === #
    def _compute_counts(self):
        Partner = self.env["res.partner"]
        Move = self.env["account.move"]
        customers = dict(
            Partner._read_group(
                [("credit_factoring_contract_id", "in", self.ids)],
                ["credit_factoring_contract_id"],
                ["__count"],
            )
        )
        invoices = dict(
            Move._read_group(
                [("credit_factoring_contract_id", "in", self.ids), ("credit_factoring_state", "=", "sold")],
                ["credit_factoring_contract_id"],
                ["__count"],
            )
        )
        for contract in self:
            contract.customer_count = customers.get(contract, 0)
            contract.invoice_count = invoices.get(contract, 0)

    # === CONSTRAINTS === #
    @api.constrains("factor_id", "bank_account_id")
    def _check_factor(self):
        for contract in self:
            if not contract.factor_id:
                raise ValidationError(_("A factoring contract needs a factor."))
            if contract.bank_account_id and contract.bank_account_id.partner_id != contract.factor_id:
                raise ValidationError(
                    _(
                        "The bank account %(account)s is not an account of the factor %(factor)s.",
                        account=contract.bank_account_id.display_name,
                        factor=contract.factor_id.display_name,
                    )
                )

    @api.constrains("purchase_limit", "fee_percent", "retention_percent")
    def _check_amounts(self):
        for contract in self:
            if contract.purchase_limit < 0:
                raise ValidationError(_("The purchase limit cannot be negative."))
            if not (0 <= contract.fee_percent <= 100 and 0 <= contract.retention_percent <= 100):
                raise ValidationError(_("Fee and retention are percentages between 0 and 100."))

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("factor_id"):
                raise ValidationError(_("A factoring contract needs a factor."))
        return super().create(vals_list)

    # === ACTIONS === #
    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("credit_factoring_contract_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_view_customers(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Customers of %(contract)s", contract=self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("credit_factoring_contract_id", "=", self.id)],
            "context": {"create": False},
        }

    def action_export_xlsx(self):
        self.ensure_one()
        date_from = self.date_export_from
        writer = self.env["credit.xlsx.writer"]
        return writer._download_action(
            self._export_xlsx(date_from), _("Factoring %(contract)s.xlsx", contract=self.name)
        )

    def action_export_csv(self):
        self.ensure_one()
        content = self._export_csv(self.date_export_from)
        attachment = self.env["ir.attachment"].create(
            {
                "name": _("Factoring %(contract)s.csv", contract=self.name),
                "raw": content,
                "mimetype": "text/csv",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % attachment.id,
            "target": "download",
        }

    # === BUSINESS METHODS === #
    def _check_manager(self):
        if not (self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager")):
            raise AccessError(_("Only Credit Managers handle factoring."))

    def _export_columns(self):
        return [
            {"key": "number", "header": _("Invoice"), "width": 18},
            {"key": "customer", "header": _("Customer"), "width": 32},
            {"key": "vat", "header": _("Tax ID"), "width": 16},
            {"key": "invoice_date", "header": _("Invoice Date"), "type": "date"},
            {"key": "date_due", "header": _("Due Date"), "type": "date"},
            {"key": "date_assigned", "header": _("Assigned On"), "type": "date"},
            {"key": "currency", "header": _("Currency"), "width": 8},
            {"key": "amount_total", "header": _("Amount"), "type": "money", "total": True},
            {"key": "amount_residual", "header": _("Open"), "type": "money", "total": True},
        ]

    def _export_rows(self, date_from=None):
        """The invoices sold under this contract and assigned on or after ``date_from`` (all
        when empty), oldest assignment first: one search and one read."""
        self.ensure_one()
        self._check_manager()
        domain = [
            ("credit_factoring_contract_id", "=", self.id),
            ("credit_factoring_state", "=", "sold"),
        ]
        if date_from:
            domain.append(("credit_factoring_date", ">=", date_from))
        moves = self.env["account.move"].search(domain, order="credit_factoring_date, name, id")
        return [
            {
                "number": move.name,
                "customer": move.commercial_partner_id.name,
                "vat": move.commercial_partner_id.vat or "",
                "invoice_date": move.invoice_date,
                "date_due": move.invoice_date_due,
                "date_assigned": move.credit_factoring_date,
                "currency": move.currency_id.name,
                "amount_total": move.amount_total,
                "amount_residual": move.amount_residual,
            }
            for move in moves
        ]

    def _export_csv(self, date_from=None):
        columns = self._export_columns()
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow([column["header"] for column in columns])
        for row in self._export_rows(date_from):
            writer.writerow(
                [
                    fields.Date.to_string(value)
                    if key in ("invoice_date", "date_due", "date_assigned")
                    else value
                    for key, value in ((column["key"], row[column["key"]]) for column in columns)
                ]
            )
        return buffer.getvalue().encode("utf-8-sig")

    def _export_xlsx(self, date_from=None):
        rows = self._export_rows(date_from)
        writer = self.env["credit.xlsx.writer"]
        book = writer.with_company(self.company_id)._new_book()
        sheet = book.add_sheet(
            _("Assigned Invoices"),
            self._export_columns(),
            title=_(
                "Invoices assigned to %(factor)s (%(contract)s) since %(date)s",
                factor=self.factor_id.name,
                contract=self.name,
                date=date_from or "-",
            ),
        )
        for row in rows:
            sheet.write_row(row)
        sheet.write_total(_("Total"))
        return book.close()
