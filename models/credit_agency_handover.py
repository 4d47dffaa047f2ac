from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_amount

from .credit_collection_document_mixin import prepare_collection_vals


class CreditAgencyHandover(models.Model):
    """Übergabe an ein Inkassobüro: invoices handed over to a collection agency leave normal
    dunning.

    draft → handed_over (the open amount of the invoices is frozen as the handed-over amount,
    a task of type agency is opened, the invoices leave dunning) → closed (the agency finished
    the case) or returned (the agency gave it back: the invoices are dunned again)."""

    _name = "credit.agency.handover"
    _description = "Collection Agency Handover"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True, check_company=True
    )
    agency_id = fields.Many2one("res.partner", string="Collection Agency", required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(
        string="Handover Date", required=True, default=fields.Date.context_today, tracking=True
    )
    move_ids = fields.Many2many(
        "account.move",
        "credit_agency_handover_account_move_rel",
        "handover_id",
        "move_id",
        string="Invoices",
        check_company=True,
        required=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
        "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    amount = fields.Monetary(string="Handed-over Amount", readonly=True)
    amount_open = fields.Monetary(
        string="Still Open", compute="_compute_amount_open", help="Open amount of the invoices today."
    )
    state = fields.Selection(
        [("draft", "Draft"), ("handed_over", "Handed Over"), ("closed", "Closed"), ("returned", "Returned")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    note = fields.Text()
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)
    task_ids = fields.One2many("credit.task", "handover_id", string="Tasks")

    @api.depends("move_ids.amount_residual_signed")
    def _compute_amount_open(self):
        for handover in self:
            handover.amount_open = sum(handover.move_ids.mapped("amount_residual_signed"))

    # === CONSTRAINTS === #
    @api.constrains("move_ids", "partner_id", "company_id")
    def _check_moves(self):
        for handover in self:
            wrong = handover.move_ids.filtered(
                lambda m, h=handover: m.move_type != "out_invoice"
                or m.commercial_partner_id != h.partner_id.commercial_partner_id
                or m.company_id != h.company_id
            )
            if wrong:
                raise ValidationError(
                    _(
                        "Handover %(handover)s may only cover customer invoices of %(partner)s in "
                        "%(company)s, not %(moves)s.",
                        handover=handover.name,
                        partner=handover.partner_id.display_name,
                        company=handover.company_id.name,
                        moves=", ".join(wrong.mapped("display_name")),
                    )
                )
            handover.move_ids._credit_check_not_sold(handover._description)

    @api.constrains("agency_id", "partner_id")
    def _check_agency(self):
        for handover in self:
            if handover.agency_id.commercial_partner_id == handover.partner_id.commercial_partner_id:
                raise ValidationError(_("The collection agency cannot be the customer itself."))

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            prepare_collection_vals(self.env, vals, "credit.agency.handover")
        return super().create(vals_list)

    def write(self, vals):
        if {"move_ids", "partner_id", "company_id"}.intersection(vals) and any(
            handover.state != "draft" for handover in self
        ):
            raise UserError(_("The invoices of a handover cannot change once they were handed over."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if any(handover.state != "draft" for handover in self):
            raise UserError(_("Only draft handovers can be deleted; close or return the others."))

    # === ACTIONS === #
    def action_hand_over(self):
        """Hand the invoices over: freeze their open amount, take them out of dunning, open an
        agency task for the credit team."""
        for handover in self:
            if handover.state != "draft":
                raise UserError(_("Handover %(handover)s was already handed over.", handover=handover.name))
            moves = handover.move_ids
            if not moves:
                raise UserError(_("Select the invoices to hand over."))
            closed = moves.filtered(
                lambda m: m.state != "posted" or m.payment_state not in ("not_paid", "partial")
            )
            if closed:
                raise UserError(
                    _(
                        "Only open invoices can be handed over: %(moves)s.",
                        moves=", ".join(closed.mapped("display_name")),
                    )
                )
            taken = self.search(
                [("id", "!=", handover.id), ("state", "=", "handed_over"), ("move_ids", "in", moves.ids)]
            )
            if taken:
                raise UserError(
                    _(
                        "Some invoices are already with a collection agency (%(handovers)s).",
                        handovers=", ".join(taken.mapped("name")),
                    )
                )
        for handover in self:
            amount = sum(handover.move_ids.mapped("amount_residual_signed"))
            handover.write({"state": "handed_over", "amount": amount})
            message = _(
                "Handed over to the collection agency %(agency)s (%(handover)s): %(amount)s.",
                agency=handover.agency_id.display_name,
                handover=handover.name,
                amount=format_amount(self.env, amount, handover.currency_id),
            )
            handover.message_post(body=message)
            # sudo: collectors log on the customer and the invoices without the right to edit them
            handover.partner_id.sudo().message_post(body=message)
            for move in handover.move_ids.sudo():
                move.message_post(body=message)
            self.env["credit.task"]._create_auto(
                "agency",
                "agency",
                handover.partner_id,
                _("Collection agency case %(handover)s", handover=handover.name),
                company=handover.company_id,
                team="credit",
                user=self.env.user,
                handover_id=handover,
                move_ids=handover.move_ids,
                date_deadline=fields.Date.add(handover.date, days=30),
            )
        return True

    def action_close(self):
        """The agency finished the case (collected or written off on its side)."""
        return self._finish("closed", _("Collection agency case closed."))

    def action_return(self):
        """The agency returned the case: the invoices are dunned normally again."""
        return self._finish("returned", _("Returned by the collection agency: normal dunning resumes."))

    def _finish(self, state, message):
        if any(handover.state != "handed_over" for handover in self):
            raise UserError(_("Only handed-over cases can be closed or returned."))
        self.write({"state": state, "date_closed": fields.Date.context_today(self)})
        for handover in self:
            handover.message_post(body=message)
            handover.partner_id.sudo().message_post(
                body=_("%(handover)s: %(message)s", handover=handover.name, message=message)
            )
        self.env["credit.task"]._close_auto(message, handover_id=self)
        return True

    def action_print_case_file(self):
        return self.env.ref("credit_control.credit_agency_handover_report_action").report_action(self)

    def action_download_case_file(self):
        self.ensure_one()
        content = self.env["credit.agency.case.xlsx"]._generate(self)
        attachment = self.env["ir.attachment"].create(
            {
                "name": _("Case file %(handover)s.xlsx", handover=self.name.replace("/", "-")),
                "raw": content,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % attachment.id,
            "target": "download",
        }

    # === DUNNING EXCLUSION === #
    @api.model
    def _blocked_move_ids(self, move_ids):
        """Ids among ``move_ids`` that are with a collection agency (one query)."""
        if not move_ids:
            return set()
        self.flush_model(["state"])
        self.env.cr.execute(
            SQL(
                """
            SELECT rel.move_id
              FROM credit_agency_handover_account_move_rel rel
              JOIN credit_agency_handover h ON h.id = rel.handover_id
             WHERE h.state = 'handed_over'
               AND rel.move_id = ANY(%s)
                """,
                list(move_ids),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    # === CASE FILE === #
    def _case_file_data(self):
        """Everything the agency needs, per section: invoices, dunning letters, promises,
        disputes, notes (chatter of the customer, the invoices and the handover)."""
        self.ensure_one()
        moves = self.move_ids
        letters = (
            self.env["credit.dunning.line"]
            .search([("move_id", "in", moves.ids)])
            .letter_id.filtered(lambda letter: letter.state == "done")
        )
        promises = self.env["credit.promise"].search([("move_ids", "in", moves.ids)], order="date_promised")
        disputes = self.env["credit.dispute"].search([("move_ids", "in", moves.ids)], order="id")
        notes = self.env["mail.message"].search(
            [
                ("message_type", "=", "comment"),
                "|",
                "|",
                "&",
                ("model", "=", "res.partner"),
                ("res_id", "=", self.partner_id.id),
                "&",
                ("model", "=", "account.move"),
                ("res_id", "in", moves.ids),
                "&",
                ("model", "=", self._name),
                ("res_id", "=", self.id),
            ],
            order="date, id",
        )
        return {
            "moves": moves.sorted(lambda m: (m.invoice_date or m.date, m.id)),
            "letters": letters.sorted(lambda letter: (letter.dunning_date, letter.id)),
            "promises": promises,
            "disputes": disputes,
            "notes": notes,
        }
