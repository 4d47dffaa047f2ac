import csv
import io
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

NOTIFICATION_KINDS = [
    ("overdue", "Overdue Notification"),
    ("claim", "Claim"),
]

NOTIFICATION_STATES = [
    ("draft", "Draft"),
    ("filed", "Filed"),
    ("answered", "Answered"),
    ("cancel", "Cancelled"),
]


class CreditInsuranceNotification(models.Model):
    """What the insured company reports to its credit insurer: the overdue notification
    (Nichtzahlungsmeldung) of items still open at the policy's reporting deadline, and the claim
    (Schadensmeldung) filed from it within the policy's claim period. Documents go to the
    chatter as attachments."""

    _name = "credit.insurance.notification"
    _description = "Credit Insurance Notification"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_deadline desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    kind = fields.Selection(NOTIFICATION_KINDS, required=True, default="overdue", tracking=True)
    policy_id = fields.Many2one(
        "credit.insurance.policy", string="Policy", required=True, check_company=True, tracking=True
    )
    insurer_id = fields.Many2one(related="policy_id.insurer_id", store=True, string="Insurer")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, check_company=True, tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    move_ids = fields.Many2many(
        "account.move",
        "credit_insurance_notification_account_move_rel",
        "notification_id",
        "move_id",
        string="Invoices",
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('commercial_partner_id', '=', partner_id)]",
    )
    amount = fields.Monetary(
        string="Amount Reported",
        compute="_compute_amount",
        store=True,
        readonly=False,
        tracking=True,
        help="Open amount of the invoices when reported (company currency).",
    )
    amount_indemnity = fields.Monetary(
        string="Indemnity", tracking=True, help="Amount the insurer pays out on the claim."
    )
    date_due = fields.Date(string="Oldest Due Date", compute="_compute_dates", store=True)
    date_deadline = fields.Date(
        string="Deadline",
        compute="_compute_dates",
        store=True,
        help="Overdue notification: the policy's reporting deadline (oldest due date + reporting "
        "days). Claim: the end of the claim period (notification filed + claim days).",
    )
    date_filed = fields.Date(string="Filed On", tracking=True, copy=False)
    date_answered = fields.Date(string="Answered On", tracking=True, copy=False)
    state = fields.Selection(NOTIFICATION_STATES, required=True, default="draft", tracking=True, copy=False)
    notification_id = fields.Many2one(
        "credit.insurance.notification",
        string="Overdue Notification",
        check_company=True,
        index="btree_not_null",
        domain="[('kind', '=', 'overdue'), ('partner_id', '=', partner_id)]",
    )
    claim_ids = fields.One2many("credit.insurance.notification", "notification_id", string="Claims")
    note = fields.Text(string="Notes")

    # === COMPUTE === #
    @api.depends("kind", "partner_id", "policy_id")
    def _compute_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for notification in self:
            notification.name = "%s: %s (%s)" % (
                labels.get(notification.kind, ""),
                notification.partner_id.display_name or "",
                notification.policy_id.name or "",
            )

    @api.depends("move_ids")
    def _compute_amount(self):
        for notification in self:
            notification.amount = sum(notification.move_ids.mapped("amount_residual_signed"))

    @api.depends(
        "kind", "move_ids", "policy_id.reporting_days", "policy_id.claim_days", "notification_id.date_filed"
    )
    def _compute_dates(self):
        for notification in self:
            dues = [d for d in notification.move_ids.mapped("invoice_date_due") if d]
            notification.date_due = min(dues) if dues else False
            if notification.kind == "claim":
                filed = notification.notification_id.date_filed
                notification.date_deadline = (
                    filed + timedelta(days=notification.policy_id.claim_days) if filed else False
                )
            else:
                notification.date_deadline = (
                    notification.date_due + timedelta(days=notification.policy_id.reporting_days)
                    if notification.date_due
                    else False
                )

    # === CONSTRAINTS === #
    @api.constrains("partner_id", "move_ids", "company_id")
    def _check_moves(self):
        for notification in self:
            customer = notification.partner_id.commercial_partner_id
            foreign = notification.move_ids.filtered(
                lambda m, customer=customer, company=notification.company_id: (
                    m.commercial_partner_id != customer or m.company_id != company
                )
            )
            if foreign:
                raise ValidationError(
                    _(
                        "%(invoices)s: not an invoice of %(customer)s in %(company)s; a notification "
                        "to the insurer covers the invoices of its own customer only.",
                        invoices=", ".join(foreign.mapped("display_name")),
                        customer=customer.display_name,
                        company=notification.company_id.display_name,
                    )
                )
            wrong = notification.move_ids.filtered(
                lambda m: m.move_type != "out_invoice" or m.state != "posted"
            )
            if wrong:
                raise ValidationError(
                    _(
                        "%(invoices)s: only posted customer invoices can be reported to the insurer.",
                        invoices=", ".join(wrong.mapped("display_name")),
                    )
                )

    @api.constrains("kind", "notification_id", "date_filed")
    def _check_claim(self):
        for claim in self.filtered(lambda n: n.kind == "claim"):
            origin = claim.notification_id
            if not origin or origin.kind != "overdue" or not origin.date_filed:
                raise ValidationError(
                    _("A claim is filed from an overdue notification that was filed with the insurer.")
                )
            deadline = origin.date_filed + timedelta(days=claim.policy_id.claim_days)
            filed = claim.date_filed or fields.Date.context_today(claim)
            if filed > deadline:
                raise ValidationError(
                    _(
                        "The claim period of policy %(policy)s ended on %(deadline)s (%(days)s days "
                        "after the overdue notification of %(date)s): the claim can no longer be filed.",
                        policy=claim.policy_id.name,
                        deadline=deadline,
                        days=claim.policy_id.claim_days,
                        date=origin.date_filed,
                    )
                )

    @api.constrains("amount", "amount_indemnity")
    def _check_amounts(self):
        for notification in self:
            if notification.amount < 0 or notification.amount_indemnity < 0:
                raise ValidationError(_("The amounts of an insurance notification cannot be negative."))

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                vals["partner_id"] = (
                    self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
                )
        return super().create(vals_list)

    # === ACTIONS === #
    def action_file(self):
        for notification in self:
            if notification.state != "draft":
                raise UserError(_("Only a draft notification can be filed."))
            if not notification.move_ids:
                raise UserError(_("Add the invoices the notification reports before filing it."))
        self.write({"state": "filed", "date_filed": fields.Date.context_today(self)})

    def action_answered(self):
        if self.filtered(lambda n: n.state != "filed"):
            raise UserError(_("Only a filed notification can be answered by the insurer."))
        self.write({"state": "answered", "date_answered": fields.Date.context_today(self)})

    def action_cancel(self):
        self.write({"state": "cancel"})

    def action_draft(self):
        self.write({"state": "draft", "date_filed": False, "date_answered": False})

    def action_create_claim(self):
        """The claim (Schadensmeldung) from this overdue notification, within the claim period."""
        self.ensure_one()
        if self.kind != "overdue" or self.state not in ("filed", "answered"):
            raise UserError(_("A claim is created from a filed overdue notification."))
        claim = self.create(
            {
                "kind": "claim",
                "notification_id": self.id,
                "policy_id": self.policy_id.id,
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "move_ids": [fields.Command.set(self.move_ids.ids)],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": claim.id,
            "view_mode": "form",
        }

    def _export_columns(self):
        return [
            {"key": "kind", "header": _("Type"), "type": "text"},
            {"key": "insurer", "header": _("Insurer"), "type": "text"},
            {"key": "policy", "header": _("Policy"), "type": "text"},
            {"key": "customer", "header": _("Customer"), "type": "text"},
            {"key": "vat", "header": _("Tax ID"), "type": "text"},
            {"key": "invoices", "header": _("Invoices"), "type": "text", "width": 30},
            {"key": "date_due", "header": _("Oldest Due Date"), "type": "date"},
            {"key": "date_deadline", "header": _("Deadline"), "type": "date"},
            {"key": "date_filed", "header": _("Filed On"), "type": "date"},
            {"key": "date_answered", "header": _("Answered On"), "type": "date"},
            {"key": "amount", "header": _("Amount Reported"), "type": "money", "total": True},
            {"key": "amount_indemnity", "header": _("Indemnity"), "type": "money", "total": True},
            {"key": "state", "header": _("Status"), "type": "text"},
        ]

    def _export_rows(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        states = dict(self._fields["state"]._description_selection(self.env))
        return [
            {
                "kind": kinds[n.kind],
                "insurer": n.insurer_id.display_name or "",
                "policy": n.policy_id.name,
                "customer": n.partner_id.display_name,
                "vat": n.partner_id.vat or "",
                "invoices": ", ".join(n.move_ids.mapped("name")),
                "date_due": n.date_due,
                "date_deadline": n.date_deadline,
                "date_filed": n.date_filed,
                "date_answered": n.date_answered,
                "amount": n.amount,
                "amount_indemnity": n.amount_indemnity,
                "state": states[n.state],
            }
            for n in self
        ]

    def _export_xlsx(self):
        writer = self.env["credit.xlsx.writer"]
        writer._check_export_access(self._name)
        book = writer._new_book()
        sheet = book.add_sheet(
            _("Insurance Notifications"), self._export_columns(), title=_("Credit insurance notifications")
        )
        sheet.write_rows(self._export_rows())
        sheet.write_total(_("Total"))
        return book.close()

    def _export_csv(self):
        self.env["credit.xlsx.writer"]._check_export_access(self._name)
        columns = self._export_columns()
        buffer = io.StringIO()
        out = csv.writer(buffer, delimiter=";")
        out.writerow([column["header"] for column in columns])
        for row in self._export_rows():
            out.writerow(
                [
                    (fields.Date.to_string(row[c["key"]]) or "") if c["type"] == "date" else row[c["key"]]
                    for c in columns
                ]
            )
        return buffer.getvalue().encode("utf-8-sig")

    def action_export_xlsx(self):
        return self.env["credit.xlsx.writer"]._download_action(
            self._export_xlsx(), _("Insurance notifications.xlsx")
        )

    def action_export_csv(self):
        attachment = self.env["ir.attachment"].create(
            {"name": _("Insurance notifications.csv"), "raw": self._export_csv(), "mimetype": "text/csv"}
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % attachment.id,
            "target": "download",
        }
