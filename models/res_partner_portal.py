import base64
import binascii
import secrets

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, consteq, format_amount
from odoo.tools.misc import hash_sign, verify_hash_signed

from ..lib.responsible import responsible_credit_manager

# scope of the signed links to the customer's portal page (see _credit_portal_token)
PORTAL_TOKEN_SCOPE = "credit_control.portal"
# most files and bytes per file a customer attaches to a dispute
DISPUTE_MAX_FILES = 5
DISPUTE_MAX_FILE_BYTES = 10 * 1024 * 1024


class ResPartner(models.Model):
    """The customer portal for collections: the figures of the customer's page, the
    signed links of dunning e-mails and letters, and what the customer submits there (promise to
    pay, dispute, payment plan request), validated as in the backend and rate-limited.

    Every method runs on the customer's commercial partner as superuser: the portal controller
    calls them only after checking who asks (a portal user of the customer, or a valid link)."""

    _inherit = "res.partner"

    # per customer, part of every signed link (empty until the first revocation): a new random
    # secret revokes the links sent so far
    credit_portal_secret = fields.Char(copy=False, groups="base.group_system")

    # === ACTIONS === #
    def action_credit_portal_revoke_links(self):
        """Invalidate every portal link sent to the customer so far (e-mails, letters)."""
        if not self.env.su and not self.env.user.has_group("credit_control.credit_control_group_user"):
            raise AccessError(_("Only the credit team revokes the portal links of a customer."))
        for partner in self.commercial_partner_id.sudo():
            partner.credit_portal_secret = secrets.token_urlsafe(16)
            partner.message_post(
                body=_("Portal links sent so far revoked by %(user)s.", user=self.env.user.name)
            )
        return True

    # === BUSINESS METHODS: links === #
    def _credit_portal_token(self, company=None, expiration_hours=None):
        """A signed token (per customer and company, expiring after the company's link
        validity) that opens the customer's portal page without a password."""
        self.ensure_one()
        partner = self.commercial_partner_id.sudo()
        company = company or self.env.company
        # no write here: letters are printed in read-only transactions; an empty secret until
        # the links are first revoked
        return hash_sign(
            self.env(su=True),
            PORTAL_TOKEN_SCOPE,
            [partner.id, company.id, partner.credit_portal_secret or ""],
            expiration_hours=expiration_hours or company.credit_portal_token_days * 24,
        )

    @api.model
    def _credit_portal_check_token(self, token):
        """(customer, company) of a valid ``token``, else None: forged, expired, revoked or of a
        company whose portal is off."""
        if not token or not isinstance(token, str):
            return None
        try:
            values = verify_hash_signed(self.env(su=True), PORTAL_TOKEN_SCOPE, token)
        except (ValueError, binascii.Error, UnicodeDecodeError, IndexError):
            return None
        if not isinstance(values, list) or len(values) != 3:
            return None
        partner_id, company_id, secret = values
        partner = self.sudo().browse(partner_id).exists()
        company = self.env["res.company"].sudo().browse(company_id).exists()
        if (
            not partner
            or not company
            or not company.credit_portal_enabled
            or not consteq(str(secret), partner.credit_portal_secret or "")
        ):
            return None
        return partner, company

    def _credit_portal_url(self, company=None, with_token=True):
        """The absolute URL of the customer's portal page, signed unless ``with_token`` is False
        (the short URL of a letter: the customer logs in)."""
        self.ensure_one()
        company = company or self.env.company
        url = f"{self.get_base_url()}/my/credit"
        if with_token and company.credit_portal_enabled:
            url += f"?access_token={self._credit_portal_token(company)}"
        return url

    def _credit_portal_qr_code(self, company=None):
        """QR code (PNG, base64) of the signed link to the customer's page (dunning letters)."""
        self.ensure_one()
        url = self._credit_portal_url(company)
        return base64.b64encode(self.env["ir.actions.report"].barcode("QR", url, width=200, height=200))

    # === BUSINESS METHODS: the page === #
    def _credit_portal_open_items_domain(self, company):
        """The customer's open invoices and credit notes in ``company``. By ``partner_id`` (the
        commercial partner and its contacts): indexed, unlike the invoices' commercial partner,
        so that a customer with thousands of open items gets its page in one index scan."""
        return [
            ("partner_id", "in", self._credit_portal_partner_ids()),
            ("company_id", "=", company.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]

    def _credit_portal_partner_ids(self):
        """Ids of the commercial partner ``self`` and all its contacts (archived ones too)."""
        self.ensure_one()
        return (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            ._search([("commercial_partner_id", "=", self.commercial_partner_id.id)])
        )

    def _credit_portal_values(self, company, page=1, step=20):
        """Everything the customer's page shows for ``company``: one page of open items (oldest
        due first) and the figures of all of them, in a number of queries that does not grow with
        the open items (aggregates and one page)."""
        self.ensure_one()
        partner = self.commercial_partner_id.sudo().with_company(company)
        env = partner.env
        today = fields.Date.context_today(partner)
        Move = env["account.move"].with_company(company)
        domain = partner._credit_portal_open_items_domain(company)
        balance, overdue = partner._credit_portal_totals(company, today)
        # one page of items and the number of all of them: one query
        page = max(1, page)
        items, count = partner._credit_portal_page(Move, domain, page, step)
        if not items and page > 1:
            page = 1
            items, count = partner._credit_portal_page(Move, domain, page, step)
        items.fetch(
            ["name", "move_type", "invoice_date", "invoice_date_due", "amount_total", "amount_residual"]
            + ["currency_id", "credit_dunning_level_id", "payment_state"]
        )
        items.credit_dunning_level_id.fetch(["name"])
        documents = partner._credit_portal_documents(company, items)
        currency = company.currency_id
        lang = env["res.lang"]._lang_get(env.lang or "en_US") or env["res.lang"]._lang_get("en_US")
        return {
            # the cells of the page's items, formatted once (not field by field in the template)
            "cells": partner._credit_portal_cells(lang, items),
            "credit_partner": partner,
            "credit_company": company,
            "currency": currency,
            "today": today,
            "items": items,
            "items_count": count,
            "page": page,
            "step": step,
            "days_overdue": {
                move.id: max(0, (today - move.invoice_date_due).days) if move.invoice_date_due else 0
                for move in items
            },
            "promised_ids": documents["promised_ids"],
            "disputed_ids": documents["disputed_ids"],
            "balance": balance or 0.0,
            "overdue": overdue or 0.0,
            "available_credit": (
                partner.credit_available if company.credit_portal_show_available_credit else None
            ),
            "promises": documents["promises"],
            "disputes": documents["disputes"],
            "plans": documents["plans"],
            "plan_requests": documents["plan_requests"],
            "partial_payment": company.credit_portal_partial_payment,
            "dispute_reasons": env["credit.dispute"]._fields["reason"]._description_selection(env),
        }

    def _credit_portal_cells(self, lang, items):
        """Dates and open amount of each of ``items``, formatted in ``lang``."""
        return {
            move.id: {
                "date": self._credit_portal_format_date(lang, move.invoice_date),
                "due": self._credit_portal_format_date(lang, move.invoice_date_due),
                "open": self._credit_portal_format_amount(lang, move.amount_residual, move.currency_id),
            }
            for move in items
        }

    def _credit_portal_totals(self, company, today):
        """(balance, overdue) of the customer's receivable items in ``company`` (open credits
        and payments included), one query. ``self``: the commercial partner, as superuser."""
        env = self.env
        env["account.move.line"].flush_model(
            ["partner_id", "company_id", "account_id", "parent_state", "reconciled", "amount_residual"]
        )
        [(balance, overdue)] = env.execute_query(
            SQL(
                """
            SELECT SUM(aml.amount_residual),
                   SUM(aml.amount_residual) FILTER (WHERE aml.date_maturity < %(today)s AND aml.balance > 0)
              FROM account_move_line aml
              JOIN account_account acc ON acc.id = aml.account_id
             WHERE aml.partner_id IN %(partners)s
               AND aml.company_id = %(company)s
               AND acc.account_type = 'asset_receivable'
               AND aml.parent_state = 'posted'
               AND NOT aml.reconciled
                """,
                today=today,
                partners=self._credit_portal_partner_ids().subselect(),
                company=company.id,
            )
        )
        return balance or 0.0, overdue or 0.0

    def _credit_portal_documents(self, company, items):
        """The customer's promises, disputes, payment plans and plan requests in ``company`` (the
        latest 20 of each), and which of the page's ``items`` are under an open promise or
        dispute (two queries for the page)."""
        env = self.env
        partner = self
        Promise, Dispute = env["credit.promise"], env["credit.dispute"]
        Plan, Request = env["credit.payment.plan"], env["credit.payment.plan.request"]
        mine = [("partner_id", "=", partner.id), ("company_id", "=", company.id)]
        promises = Promise.search(mine, limit=20)
        disputes = Dispute.search(mine, limit=20)
        plans = Plan.search(mine + [("state", "!=", "draft")], limit=20)
        requests = Request.search(mine, limit=20)
        promised = Promise.search([("state", "=", "open"), ("move_ids", "in", items.ids)]).move_ids
        disputed = Dispute.search(
            [("state", "in", ("open", "progress")), ("move_ids", "in", items.ids)]
        ).move_ids
        return {
            "promises": promises,
            "disputes": disputes,
            "plans": plans,
            "plan_requests": requests,
            "promised_ids": set(promised.ids),
            "disputed_ids": set(disputed.ids),
        }

    @api.model
    def _credit_portal_page(self, Move, domain, page, step):
        """(invoices of ``page``, number of all invoices of ``domain``) in one query."""
        query = Move._search(
            domain, order="invoice_date_due asc, id asc", limit=step, offset=(page - 1) * step
        )
        rows = self.env.execute_query(query.select(SQL('"account_move"."id"'), SQL("COUNT(*) OVER ()")))
        return Move.browse([row[0] for row in rows]), rows[0][1] if rows else 0

    @api.model
    def _credit_portal_format_date(self, lang, date):
        return date.strftime(lang.date_format) if date else ""

    @api.model
    def _credit_portal_format_amount(self, lang, amount, currency):
        text = lang.format(f"%.{currency.decimal_places}f", currency.round(amount), grouping=True)
        if currency.position == "after":
            return f"{text}\N{NO-BREAK SPACE}{currency.symbol or ''}"
        return f"{currency.symbol or ''}\N{NO-BREAK SPACE}{text}"

    # === BUSINESS METHODS: what the customer submits === #
    def _credit_portal_check_submission(self, company, move_ids, invoices_only=True):
        """The invoices (as superuser) a customer submits a request about, after the checks that
        hold for every portal request: the portal is on, the rate limit not reached, the invoices
        are the customer's open invoices in ``company``. UserError otherwise."""
        self.ensure_one()
        if not company.credit_portal_enabled:
            raise UserError(_("The customer portal for collections is not available."))
        self._credit_portal_check_rate(company)
        Move = self.env["account.move"].sudo()
        try:
            ids = [int(move_id) for move_id in move_ids]
        except (TypeError, ValueError):
            ids = None
        if not ids:
            raise UserError(_("Select at least one invoice."))
        moves = Move.search(
            self._credit_portal_open_items_domain(company)
            + [("id", "in", ids)]
            + ([("move_type", "=", "out_invoice")] if invoices_only else [])
        )
        if len(moves) != len(set(ids)):
            raise UserError(_("Some of the selected invoices are not open invoices of your account."))
        return moves

    def _credit_portal_check_rate(self, company):
        """At most the company's number of portal requests (promises, disputes, payment plan
        requests together) per customer and day."""
        since = fields.Datetime.to_datetime(fields.Date.context_today(self))
        mine = [("partner_id", "=", self.id), ("company_id", "=", company.id), ("create_date", ">=", since)]
        env = self.env(su=True)
        count = (
            env["credit.promise"].search_count(mine + [("channel", "=", "portal")])
            + env["credit.dispute"].search_count(mine + [("portal_submitted", "=", True)])
            + env["credit.payment.plan.request"].search_count(mine)
        )
        if count >= company.credit_portal_max_requests:
            raise UserError(
                _(
                    "You have reached the limit of %(count)s requests per day. Please contact us or "
                    "try again tomorrow.",
                    count=company.credit_portal_max_requests,
                )
            )

    def _credit_portal_log(self, record, body, author):
        """What the customer did, in the chatter of the customer and of the new document."""
        body = Markup("%s<br/>%s") % (
            _("Submitted on the customer portal by %(name)s.", name=author.name),
            body,
        )
        record.sudo().message_post(
            body=body, author_id=author.id, message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.sudo().message_post(
            body=body, author_id=author.id, message_type="comment", subtype_xmlid="mail.mt_note"
        )

    def _credit_portal_create_promise(self, company, move_ids, date, amount, note, author):
        """A promise to pay given on the portal (channel "portal"), checked as in the backend;
        its invoices are not dunned while it is open; the collector gets a task."""
        self.ensure_one()
        moves = self._credit_portal_check_submission(company, move_ids)
        if len(moves.currency_id) > 1:
            raise UserError(_("A promise to pay covers invoices in one currency."))
        Promise = self.env["credit.promise"].sudo().with_company(company)
        promise = Promise.create(
            {
                "partner_id": self.id,
                "company_id": company.id,
                "currency_id": moves.currency_id.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "date_promised": date,
                "amount": amount,
                "channel": "portal",
                "note": note or False,
                "user_id": self._credit_portal_collector(company).id or self.env.ref("base.user_root").id,
            }
        )
        self.env["credit.task"]._create_auto(
            "call",
            "portal",
            self,
            _("Promise to pay %(ref)s given on the portal: follow up", ref=promise.name),
            company=company,
            promise_id=promise,
            move_ids=moves,
            date_deadline=promise.date_grace_end,
        )
        self._credit_portal_log(promise, promise._collection_creation_note(), author)
        return promise

    def _credit_portal_create_dispute(self, company, move_id, reason, amount, description, files, author):
        """A dispute opened on the portal about one invoice, with the customer's files; the
        dispute opens its task and pauses the invoice's dunning itself."""
        self.ensure_one()
        reasons = dict(self.env["credit.dispute"]._fields["reason"]._description_selection(self.env))
        if reason not in reasons:
            raise UserError(_("Choose the reason of the dispute from the list."))
        if not (description or "").strip():
            raise UserError(_("Describe what is wrong with the invoice."))
        files = [file for file in files or [] if file.get("content")]
        if len(files) > DISPUTE_MAX_FILES:
            raise UserError(_("Attach at most %(count)s files.", count=DISPUTE_MAX_FILES))
        if any(len(file["content"]) > DISPUTE_MAX_FILE_BYTES for file in files):
            raise UserError(
                _("A file may have at most %(size)s MB.", size=DISPUTE_MAX_FILE_BYTES // 1024 // 1024)
            )
        moves = self._credit_portal_check_submission(company, [move_id])
        Dispute = self.env["credit.dispute"].sudo().with_company(company)
        dispute = Dispute.create(
            {
                "partner_id": self.id,
                "company_id": company.id,
                "currency_id": moves.currency_id.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "reason": reason,
                "amount": amount,
                "description": description.strip(),
                "portal_submitted": True,
            }
        )
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": file.get("name") or "file",
                        "datas": base64.b64encode(file["content"]),
                        "res_model": "credit.dispute",
                        "res_id": dispute.id,
                    }
                    for file in files
                ]
            )
        )
        self._credit_portal_log(dispute, dispute._collection_creation_note(), author)
        if attachments:
            dispute.message_post(
                body=_("Files of the customer."), attachment_ids=attachments.ids, author_id=author.id
            )
        return dispute

    def _credit_portal_create_plan_request(
        self, company, move_ids, instalment_count, date_first, note, author
    ):
        """A payment plan request: the credit team approves (creating the plan) or refuses it."""
        self.ensure_one()
        moves = self._credit_portal_check_submission(company, move_ids)
        if len(moves.currency_id) > 1:
            raise UserError(_("A payment plan covers invoices in one currency."))
        Request = self.env["credit.payment.plan.request"].sudo().with_company(company)
        request = Request.create(
            {
                "partner_id": self.id,
                "company_id": company.id,
                "currency_id": moves.currency_id.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "instalment_count": instalment_count,
                "date_first": date_first,
                "note": note or False,
                "requested_by_id": author.id,
                "user_id": self._credit_portal_collector(company).id,
            }
        )
        self.env["credit.task"]._create_auto(
            "review",
            "portal",
            self,
            _("Payment plan request %(ref)s: approve or refuse", ref=request.name),
            company=company,
            plan_request_id=request,
            move_ids=moves,
            date_deadline=fields.Date.context_today(self),
            description=_(
                "%(count)s instalments from %(date)s over %(amount)s.",
                count=request.instalment_count,
                date=request.date_first,
                amount=format_amount(self.env, request.amount_open, request.currency_id),
            ),
        )
        self._credit_portal_log(request, request._collection_creation_note(), author)
        return request

    def _credit_portal_collector(self, company):
        """The customer's credit manager (collector) in ``company``, or no user."""
        user = responsible_credit_manager(self.env, self, company)
        return user if user and user.active and not user.share else self.env["res.users"]
