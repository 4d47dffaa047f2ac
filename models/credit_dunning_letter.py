from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date, formatLang

from .account_move import DUNNING_WRITE
from .credit_dunning_run import (
    check_dunning_create,
    check_dunning_write,
    companies_consistent,
    dunning_context,
    is_dunning_code,
)

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
    _inherit = ["mail.thread", "credit.dunning.bulk.mixin"]
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
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
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
    charge_move_ids = fields.One2many(
        "account.move",
        "credit_dunning_charge_letter_id",
        string="Charge Invoices",
        readonly=True,
        help="Customer invoices claiming the interest and fees of this letter (when the company "
        "invoices dunning charges).",
    )
    charge_move_count = fields.Integer(compute="_compute_charge_move_count")
    # cancellation (kept and visible) and items to check
    cancel_reason = fields.Text(string="Cancellation Reason", readonly=True, copy=False, tracking=True)
    cancel_user_id = fields.Many2one("res.users", string="Cancelled By", readonly=True, copy=False)
    cancel_date = fields.Datetime(string="Cancelled On", readonly=True, copy=False)
    needs_review = fields.Boolean(
        string="To Review",
        compute="_compute_needs_review",
        store=True,
        help="An item of the letter could not be computed in full (e.g. interest for a due date "
        "before the base-rate table): proposed without it, to be checked by the collector.",
    )
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
                    letter.dunning_date and format_date(self.env, letter.dunning_date),
                )
                if part
            )

    @api.depends("line_ids.level_id")
    def _compute_level_id(self):
        for letter in self:
            levels = letter.line_ids.level_id
            letter.level_id = levels.sorted(lambda lvl: lvl._rank())[-1:] if levels else False

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

    @api.depends("line_ids.charge_error")
    def _compute_needs_review(self):
        for letter in self:
            letter.needs_review = any(letter.line_ids.mapped("charge_error"))

    @api.depends("charge_move_ids")
    def _compute_charge_move_count(self):
        for letter in self:
            letter.charge_move_count = len(letter.charge_move_ids)

    @api.depends("partner_id", "company_id", "dunning_date")
    def _compute_previous_letter_ids(self):
        letters = self.search([("partner_id", "in", self.partner_id.ids), ("state", "=", "done")])
        # the validated letters per customer and company, newest first (each letter looks at
        # its customer's only: not every letter of the run's customers, 100 x 100 for a run)
        by_customer = defaultdict(list)
        for other in letters.sorted(lambda other: (other.dunning_date, other.id), reverse=True):
            by_customer[other.partner_id.id, other.company_id.id].append(other)
        for letter in self:
            letter.previous_letter_ids = self.browse(
                other.id
                for other in by_customer[letter.partner_id.id, letter.company_id.id]
                if (other.dunning_date, other.id) < (letter.dunning_date, letter.id or 0)
            )

    # === CONSTRAINTS === #
    @api.constrains("recipient_id", "partner_id")
    def _check_recipient(self):
        for letter in self:
            if letter.recipient_id.commercial_partner_id != letter.partner_id.commercial_partner_id:
                raise ValidationError(
                    _(
                        "The dunning letter to %(customer)s can only go to the customer or one of its "
                        "addresses, not to %(recipient)s.",
                        customer=letter.partner_id.display_name,
                        recipient=letter.recipient_id.display_name,
                    )
                )

    @api.constrains("fee_amount")
    def _check_fee_amount(self):
        if any(letter.fee_amount < 0 for letter in self):
            raise ValidationError(_("The dunning fee of a letter cannot be negative."))

    def _check_company(self, fnames=None):
        # one check per company and field, not per letter (Odoo's message when one fails)
        if not companies_consistent(self, fnames):
            return super()._check_company(fnames)
        return None

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        # a default_* key in the context never pre-sets a field of a letter (called once per
        # created letter: the context is only rebuilt when it holds such a key)
        if any(key.startswith("default_") for key in self.env.context):
            # the whole context is replaced on purpose: it drops every default_* key
            # pylint: disable-next=context-overridden
            self = self.with_context(dunning_context(self.env))  # noqa: PLW0642
        return super().default_get(fields_list)

    @api.model_create_multi
    def create(self, vals_list):
        runs = self.env["credit.dunning.run"].browse(
            {vals.get("run_id") for vals in vals_list} - {False, None}
        )
        check_dunning_create(self, runs.exists())
        # a letter created by a Credit Manager (history) comes with its lines in one go
        return (
            super(CreditDunningLetter, self.with_context(credit_dunning_write=DUNNING_WRITE))
            .create(vals_list)
            .with_env(self.env)
        )

    def _bulk_check_create(self, vals_list):
        # as create: nothing added to a validated or cancelled run, by hand only by a manager
        runs = self.env["credit.dunning.run"].browse({vals["run_id"] for vals in vals_list})
        check_dunning_create(self, runs.exists())

    def write(self, vals):
        check_dunning_write(self, vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_validated(self):
        if is_dunning_code(self.env):
            return
        if any(letter._dunning_is_history() for letter in self):
            raise UserError(
                _(
                    "A validated or cancelled dunning letter cannot be deleted: it documents a contact. "
                    "Cancel it with a reason instead."
                )
            )

    def _dunning_editable_fields(self):
        # what a collector reviews in a proposal
        return {"recipient_id", "fee_amount", "channel_email", "channel_letter", "channel_phone", "line_ids"}

    def _dunning_is_history(self):
        self.ensure_one()
        return self.state != "draft" or self.run_id.state != "draft"

    # === ACTIONS === #
    def action_retry_email(self):
        """Bulk retry: send the failed e-mails of these letters again (only failed ones: a
        letter already sent or queued is never e-mailed again)."""
        self.check_access("write")
        self.filtered(lambda letter: letter.email_state == "failed")._action_retry_email()
        return True

    def action_mark_printed(self):
        self.check_access("write")
        self.filtered(
            lambda letter: letter.letter_state == "to_print" and letter.state == "done"
        ).with_context(credit_dunning_write=DUNNING_WRITE).letter_state = "printed"
        return True

    def action_cancel(self):
        """Open the cancellation dialog (a reason is required)."""
        return self.env["credit.dunning.cancel"]._open_for(self)

    def _action_cancel(self, reason):
        """Cancel these letters with ``reason``, kept with who and when and noted in the chatter.
        A validated letter is withdrawn: its e-mail, if still queued, is not sent; the invoices
        keep the level they reached (a Credit Manager resets it on the invoice if needed)."""
        self.check_access("write")
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Give a reason for the cancellation."))
        if any(letter.state == "cancel" for letter in self):
            raise UserError(_("This dunning letter is already cancelled."))
        letters = self.with_context(credit_dunning_write=DUNNING_WRITE)
        validated = letters.filtered(lambda letter: letter.state == "done")
        letters.write(
            {
                "state": "cancel",
                "cancel_reason": reason,
                "cancel_user_id": self.env.user.id,
                "cancel_date": fields.Datetime.now(),
            }
        )
        # sudo: the queued mail belongs to the user who validated the run
        queued = validated.email_message_id.sudo().notification_ids.mail_mail_id.filtered(
            lambda mail: mail.state in ("outgoing", "exception")
        )
        queued.write({"state": "cancel"})
        for letter in letters:
            letter._message_log(
                body=_(
                    "Letter cancelled by %(user)s: %(reason)s", user=self.env.user.display_name, reason=reason
                )
            )
        for company in validated.company_id:
            validated.filtered(lambda letter, c=company: letter.company_id == c).partner_id.with_company(
                company
            )._refresh_credit_dunning_count()
        return True

    def action_view_charge_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("id", "in", self.charge_move_ids.ids)]
        action["context"] = {"create": False, "default_move_type": "out_invoice"}
        if len(self.charge_move_ids) == 1:
            action.update(
                views=[(self.env.ref("account.view_move_form").id, "form")], res_id=self.charge_move_ids.id
            )
        return action

    def action_print(self):
        return self.env.ref("credit_control.credit_dunning_letter_report_action").report_action(self)

    # === BUSINESS METHODS === #
    def _action_retry_email(self):
        self = self.with_context(credit_dunning_write=DUNNING_WRITE)  # noqa: PLW0642
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
        )._send_email(retry=True)

    def _create_charge_invoices(self):
        """Invoice the interest and fees of these letters: per letter and currency one posted
        customer invoice, without taxes (default interest and dunning costs are damages, not a
        supply: no VAT), due at once, a line per charge naming the dunned invoice, the dunned
        invoices in its reference and narration. Only for companies that invoice charges and
        letters whose level does; the invoiced interest periods are remembered on the dunned
        invoices so that later letters charge only the days after them. Returns the invoices."""
        vals_list = []
        interest_until = defaultdict(lambda: self.env["account.move"])
        for letter in self:
            company = letter.company_id
            if not company.credit_dunning_invoice_charges or not letter.level_id.invoice_charges:
                continue
            by_currency = defaultdict(list)
            for line in letter.line_ids:
                if line.line_type == "invoice" and (line.interest_amount or line.flat_fee_amount):
                    by_currency[line.currency_id].append(line)
            if letter.fee_amount:
                # the letter's fee alone makes an invoice too
                by_currency.setdefault(letter.currency_id, [])
            for currency, lines in by_currency.items():
                vals_list.append(letter._prepare_charge_invoice_vals(currency, lines))
                for line in lines:
                    if line.interest_amount:
                        interest_until[letter.dunning_date] |= line.move_id
        if not vals_list:
            return self.env["account.move"]
        invoices = (
            self.env["account.move"].with_context(credit_dunning_write=DUNNING_WRITE).create(vals_list)
        ).with_env(self.env)
        invoices.action_post()
        for date, moves in interest_until.items():
            moves.with_context(credit_dunning_write=DUNNING_WRITE, skip_invoice_sync=True).write(
                {"credit_dunning_interest_date": date}
            )
        return invoices

    def _prepare_charge_invoice_vals(self, currency, lines):
        """Values of the charge invoice of this letter in ``currency``: the interest and flat
        fees of ``lines`` and the letter's dunning fee, in the customer's language."""
        self.ensure_one()
        company = self.company_id
        journal = self._charge_journal()
        date = self.dunning_date
        lang_env = self.with_context(lang=self.partner_id.lang or self.env.lang).env
        invoice_lines = self._charge_invoice_lines(currency, lines, journal, lang_env)
        dunned = ", ".join(line.move_id.name for line in lines) or ", ".join(
            self.line_ids.filtered(lambda ln: ln.line_type == "invoice").move_id.mapped("name")
        )
        return {
            "move_type": "out_invoice",
            "partner_id": self.partner_id.id,
            "company_id": company.id,
            "journal_id": journal.id,
            "currency_id": currency.id,
            "invoice_date": date,
            "date": date,
            "invoice_date_due": date,
            "invoice_payment_term_id": False,
            "invoice_origin": self.run_id.name,
            "ref": lang_env._("Dunning charges on %(invoices)s", invoices=dunned)[:250],
            "narration": Markup("<p>%s</p>")
            % lang_env._(
                "Interest and fees of our dunning letter (%(level)s) of %(date)s "
                "on the invoices %(invoices)s.",
                level=self.level_id.with_env(lang_env).name,
                date=format_date(lang_env, date),
                invoices=dunned,
            ),
            "credit_dunning_charge_letter_id": self.id,
            "invoice_line_ids": invoice_lines,
        }

    def _charge_journal(self):
        """The sales journal of the charge invoices (the company's setting, else its first)."""
        company = self.company_id
        journal = company.credit_dunning_charge_journal_id or self.env["account.journal"].search(
            [("type", "=", "sale"), *self.env["account.journal"]._check_company_domain(company)], limit=1
        )
        if not journal:
            raise UserError(
                _("%(company)s has no sales journal for the dunning charge invoices.", company=company.name)
            )
        return journal

    def _charge_invoice_lines(self, currency, lines, journal, lang_env):
        """Invoice line commands: interest and flat fee per dunned line, the letter's fee."""
        company = self.company_id
        interest_account = company.credit_dunning_interest_account_id or journal.default_account_id
        fee_account = company.credit_dunning_fee_account_id or journal.default_account_id
        date = self.dunning_date

        def charge_line(name, amount, account):
            return fields.Command.create(
                {
                    "name": name,
                    "quantity": 1.0,
                    "price_unit": amount,
                    "account_id": account.id,
                    "tax_ids": [fields.Command.clear()],
                }
            )

        invoice_lines = []
        for line in lines:
            invoice = line.move_id.name
            if line.interest_amount:
                invoice_lines.append(
                    charge_line(
                        lang_env._(
                            "Default interest (§288 BGB) on %(invoice)s, open %(amount)s, "
                            "%(date_from)s to %(date_to)s",
                            invoice=invoice,
                            amount=formatLang(lang_env, line.amount_residual, currency_obj=line.currency_id),
                            date_from=format_date(lang_env, line.interest_date_from or line.date_due),
                            date_to=format_date(lang_env, date),
                        ),
                        line.interest_amount,
                        interest_account,
                    )
                )
            if line.flat_fee_amount:
                invoice_lines.append(
                    charge_line(
                        lang_env._("Flat fee (§288(5) BGB) on %(invoice)s", invoice=invoice),
                        line.flat_fee_amount,
                        fee_account,
                    )
                )
        if self.fee_amount and currency == self.currency_id:
            invoice_lines.append(
                charge_line(
                    lang_env._(
                        "Dunning fee: %(level)s of %(date)s",
                        level=self.level_id.with_env(lang_env).name,
                        date=format_date(lang_env, date),
                    ),
                    self.fee_amount,
                    fee_account,
                )
            )
        return invoice_lines

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
                date=format_date(self.env, date),
            ),
            "date_deadline": date,
            "user_id": user.id,
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": partner.id,
        }

    def _attach_pdfs(self, streams):
        """Store each letter's PDF (bytes by letter id) as its attachment: created (all in one
        ``create``) for the letters without one, else filled. Called with no PDF, it creates
        the attachments empty, for the e-mails queued while the PDFs are rendered. Batched: the
        access to the attachments is checked once for all (not by each write, which flushed
        and queried per attachment), the links and contents are flushed in one UPDATE each."""
        new = self.filtered(lambda letter: not letter.attachment_id)
        attachments = self.env["ir.attachment"].create(
            [
                {
                    "name": letter._get_report_filename(),
                    "res_model": self._name,
                    "res_id": letter.id,
                    "mimetype": "application/pdf",
                    **({"raw": streams[letter.id]} if letter.id in streams else {}),
                }
                for letter in new
            ]
        )
        # the attachment is no tracked field: no tracking values to prepare, no followers to add
        untracked = self.with_context(tracking_disable=True)
        for letter, attachment in zip(untracked.browse(new.ids), attachments, strict=True):
            letter.attachment_id = attachment
        filled = (self - new).filtered(lambda letter: letter.id in streams)
        if not filled:
            return
        values = {"raw": b"", "mimetype": "application/pdf"}
        filled.attachment_id.check("write", values=values)
        # sudo: the access was checked above, for all attachments at once
        for letter in filled:
            letter.attachment_id.sudo().write({**values, "raw": streams[letter.id]})

    def _get_report_filename(self):
        self.ensure_one()
        return "%s.pdf" % (
            _("Dunning %(customer)s %(date)s", customer=self.partner_id.name, date=self.dunning_date).replace(
                "/", "-"
            )
        )
