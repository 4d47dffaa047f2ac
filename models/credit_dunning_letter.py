from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

EMAIL_STATES = [
    ("none", "Not Sent"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("failed", "Failed"),
]
LETTER_STATES = [("none", "No Letter"), ("to_print", "To Print"), ("printed", "Printed")]


class CreditDunningLetter(models.Model):
    _name = "credit.dunning.letter"
    _description = "Dunning Letter"
    _inherit = ["mail.thread"]
    _order = "run_id desc, partner_id, id"
    _check_company_auto = True

    # === FIELDS === #
    run_id = fields.Many2one("credit.dunning.run", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    dunning_date = fields.Date(related="run_id.date", store=True)
    state = fields.Selection(
        [("draft", "Proposed"), ("done", "Validated"), ("cancel", "Cancelled")],
        default="draft",
        required=True,
        tracking=True,
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, check_company=True
    )
    recipient_id = fields.Many2one(
        "res.partner",
        string="Recipient",
        required=True,
        check_company=True,
        help="Invoice address the letter and the e-mail go to.",
    )
    level_id = fields.Many2one(
        "credit.dunning.level",
        string="Level",
        compute="_compute_level_id",
        store=True,
        help="Highest level of the letter's invoices.",
    )
    currency_id = fields.Many2one("res.currency", required=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.One2many("credit.dunning.line", "letter_id", string="Lines")
    invoice_count = fields.Integer(compute="_compute_amounts", store=True)
    amount_residual = fields.Monetary(
        string="Open Amount",
        currency_field="company_currency_id",
        compute="_compute_amounts",
        store=True,
        help="Open balance of the letter's invoices net of credits, in company currency.",
    )
    fee_amount = fields.Monetary(
        string="Dunning Fee", currency_field="currency_id", help="Fee of the letter's level."
    )
    # channels and their delivery
    channel_email = fields.Boolean(string="E-mail")
    channel_letter = fields.Boolean(string="Letter")
    channel_phone = fields.Boolean(string="Phone Call")
    email_state = fields.Selection(
        EMAIL_STATES, compute="_compute_email_state", store=True, string="E-mail Delivery"
    )
    email_error = fields.Text(string="E-mail Error", compute="_compute_email_state", store=True)
    email_message_id = fields.Many2one("mail.message", string="E-mail Message", readonly=True, copy=False)
    letter_state = fields.Selection(LETTER_STATES, default="none", required=True, string="Letter Delivery")
    activity_id = fields.Many2one("mail.activity", string="Phone Call Activity", readonly=True, copy=False)
    attachment_id = fields.Many2one("ir.attachment", string="PDF", readonly=True, copy=False)
    previous_letter_ids = fields.Many2many(
        "credit.dunning.letter",
        relation="credit_dunning_letter_previous_rel",
        column1="letter_id",
        column2="previous_letter_id",
        compute="_compute_previous_letter_ids",
        string="Earlier Letters",
    )

    # === COMPUTE === #
    @api.depends("partner_id", "level_id", "dunning_date")
    def _compute_display_name(self):
        for letter in self:
            letter.display_name = " – ".join(
                part
                for part in (
                    letter.partner_id.name,
                    letter.level_id.name,
                    letter.dunning_date and fields.Date.to_string(letter.dunning_date),
                )
                if part
            )

    @api.depends("line_ids.level_id")
    def _compute_level_id(self):
        for letter in self:
            levels = letter.line_ids.level_id
            letter.level_id = (
                levels.sorted(lambda lvl: (lvl.sequence, lvl.days, lvl.id))[-1:] if levels else False
            )

    @api.depends("line_ids.amount_residual_company", "line_ids.line_type")
    def _compute_amounts(self):
        for letter in self:
            letter.invoice_count = len(letter.line_ids.filtered(lambda line: line.line_type == "invoice"))
            letter.amount_residual = sum(letter.line_ids.mapped("amount_residual_company"))

    @api.depends(
        "email_message_id.notification_ids.notification_status",
        "email_message_id.notification_ids.failure_reason",
    )
    def _compute_email_state(self):
        for letter in self:
            notifications = letter.email_message_id.notification_ids.filtered(
                lambda n: n.notification_type == "email"
            )
            if not notifications:
                letter.email_state = "none" if not letter.email_message_id else "sent"
                letter.email_error = False
            elif failed := notifications.filtered(lambda n: n.notification_status in ("exception", "bounce")):
                letter.email_state = "failed"
                letter.email_error = "\n".join(
                    failed.mapped(
                        lambda n: n.failure_reason
                        or n.mail_mail_id.failure_reason
                        or n.failure_type
                        or _("Unknown error")
                    )
                )
            elif all(n.notification_status == "sent" for n in notifications):
                letter.email_state = "sent"
                letter.email_error = False
            else:
                letter.email_state = "queued"
                letter.email_error = False

    @api.depends("partner_id", "company_id", "dunning_date")
    def _compute_previous_letter_ids(self):
        letters = self.search([("partner_id", "in", self.partner_id.ids), ("state", "=", "done")])
        for letter in self:
            letter.previous_letter_ids = letters.filtered(
                lambda other, this=letter: other.partner_id == this.partner_id
                and other.company_id == this.company_id
                and (other.dunning_date, other.id) < (this.dunning_date, this.id or 0)
            ).sorted(lambda other: (other.dunning_date, other.id), reverse=True)

    # === CRUD === #
    @api.ondelete(at_uninstall=False)
    def _unlink_except_validated(self):
        if any(letter.state == "done" for letter in self):
            raise UserError(_("A validated dunning letter cannot be deleted: it documents a contact."))

    # === ACTIONS === #
    def action_retry_email(self):
        """Bulk retry: send the failed e-mails of these letters again."""
        self.filtered(lambda letter: letter.email_state == "failed")._action_retry_email()
        return True

    def action_mark_printed(self):
        self.filtered(lambda letter: letter.letter_state == "to_print").letter_state = "printed"
        return True

    def action_print(self):
        return self.env.ref("credit_control.credit_dunning_letter_report_action").report_action(self)

    # === BUSINESS METHODS === #
    def _action_retry_email(self):
        notifications = self.email_message_id.notification_ids.filtered(
            lambda n: n.notification_type == "email" and n.notification_status in ("exception", "bounce")
        )
        mails = notifications.mail_mail_id
        if mails:
            notifications.sudo().write(
                {"notification_status": "ready", "failure_type": False, "failure_reason": False}
            )
            # sudo: collectors may not write mail.mail of other users' messages
            mails.sudo().mark_outgoing()
            mails.sudo().send(raise_exception=False)
        # notifications whose mail was deleted: post the e-mail again
        self.filtered(
            lambda letter: letter.email_state == "failed"
            and not letter.email_message_id.notification_ids.mail_mail_id
        )._send_email()

    def _send_email(self):
        """Queue the e-mail of each letter with its PDF attached (rendered by the level's
        template, in the recipient's language)."""
        default_template = self.env.ref(
            "credit_control.mail_template_credit_dunning_letter", raise_if_not_found=False
        )
        for letter in self:
            template = letter.level_id.mail_template_id or default_template
            if not template:
                continue
            lang = template._render_lang(letter.ids)[letter.id]
            template = template.with_context(lang=lang)
            subject = template._render_field("subject", letter.ids)[letter.id]
            body = template._render_field("body_html", letter.ids, compute_lang=True)[letter.id]
            message = letter.with_context(mail_notify_force_send=False).message_post(
                body=body,
                subject=subject,
                partner_ids=letter.recipient_id.ids,
                attachment_ids=letter.attachment_id.ids,
                subtype_xmlid="mail.mt_comment",
                message_type="comment",
                email_layout_xmlid="mail.mail_notification_light",
                mail_auto_delete=False,
            )
            letter.email_message_id = message

    def _prepare_activity(self, activity_type, date):
        self.ensure_one()
        partner = self.partner_id
        user = partner.sudo().credit_manager_id or partner.user_id or self.env.user
        return {
            "activity_type_id": activity_type.id,
            "summary": _("Dunning call: %(level)s", level=self.level_id.name),
            "note": Markup("<p>%s</p>")
            % _(
                "Call %(customer)s about the overdue invoices of the dunning letter of %(date)s.",
                customer=partner.display_name,
                date=fields.Date.to_string(date),
            ),
            "date_deadline": date,
            "user_id": user.id,
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": partner.id,
        }

    def _attach_pdfs(self, streams):
        """Store each letter's PDF (bytes by letter id) as its attachment."""
        attachments = self.env["ir.attachment"].create(
            [
                {
                    "name": letter._get_report_filename(),
                    "raw": streams[letter.id],
                    "res_model": self._name,
                    "res_id": letter.id,
                    "mimetype": "application/pdf",
                }
                for letter in self
            ]
        )
        for letter, attachment in zip(self, attachments, strict=True):
            letter.attachment_id = attachment

    def _get_report_filename(self):
        self.ensure_one()
        return "%s.pdf" % (
            _("Dunning %(customer)s %(date)s", customer=self.partner_id.name, date=self.dunning_date).replace(
                "/", "-"
            )
        )
