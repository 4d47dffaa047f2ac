from werkzeug.exceptions import Forbidden, NotFound
from werkzeug.urls import url_encode

from odoo import _, fields, http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import content_disposition, request
from odoo.tools import float_compare, format_amount

from odoo.addons.payment import utils as payment_utils
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

ITEMS_PER_PAGE = 20


class CreditPortal(CustomerPortal):
    """The customer's collections page on the portal: open items, statement,
    promise to pay, dispute, payment plan request, pay now.

    Who asks: a logged-in portal user (its commercial partner, in one of its companies) or a
    visitor with the signed link of a dunning e-mail or letter (``access_token``: one customer,
    one company). A link of another customer than the logged-in user's is refused. Every form is
    a POST with Odoo's CSRF token; the model methods validate on the server and write nothing on
    bad input (a savepoint)."""

    # === HOME === #
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "credit_item_count" in counters:
            customer = self._credit_portal_customer(None, raise_exception=False)
            values["credit_item_count"] = (
                request.env["account.move"]
                .sudo()
                .search_count(customer[0]._credit_portal_open_items_domain(customer[1]))
                if customer
                else 0
            )
        return values

    # === ACCESS === #
    def _credit_portal_customer(self, access_token, company_id=None, raise_exception=True):
        """(commercial partner, company), both as superuser, of who may see the page; None or
        Forbidden otherwise."""
        Partner = request.env["res.partner"]
        user = request.env.user
        logged_in = not user._is_public()
        if access_token:
            checked = Partner._credit_portal_check_token(access_token)
            own = user.partner_id.commercial_partner_id
            if checked and (not logged_in or checked[0] == own):
                return checked
        elif logged_in:
            partner = user.partner_id.commercial_partner_id.sudo()
            companies = user.company_ids.sudo().filtered("credit_portal_enabled")
            if company_id:
                companies = companies.filtered(lambda c: str(c.id) == str(company_id))
            if companies:
                return partner, companies[0]
        if raise_exception:
            raise Forbidden()
        return None

    def _credit_portal_context(self, partner):
        """The customer's language for a visitor with a link (a user has its own)."""
        if request.env.user._is_public() and partner.lang:
            request.update_context(lang=partner.lang)

    def _credit_portal_url(self, access_token=None, **params):
        if access_token:
            params["access_token"] = access_token
        return "/my/credit" + (f"?{url_encode(params)}" if params else "")

    # === PAGE === #
    @http.route(
        ["/my/credit", "/my/credit/page/<int:page>"], type="http", auth="public", website=True, sitemap=False
    )
    def portal_my_credit(self, page=1, access_token=None, company_id=None, **kw):
        partner, company = self._credit_portal_customer(access_token, company_id)
        self._credit_portal_context(partner)
        return self._credit_portal_render(partner, company, page, access_token, message=kw.get("message"))

    def _credit_portal_render(
        self, partner, company, page=1, access_token=None, error=None, message=None, status=200
    ):
        values = self._prepare_portal_layout_values()
        values.update(partner._credit_portal_values(company, page=int(page), step=ITEMS_PER_PAGE))
        url_args = {"access_token": access_token} if access_token else {}
        values.update(
            {
                "page_name": "credit",
                "access_token": access_token,
                "pager": portal_pager(
                    url="/my/credit",
                    url_args=url_args,
                    total=values["items_count"],
                    page=values["page"],
                    step=ITEMS_PER_PAGE,
                ),
                "csrf_token": request.csrf_token(),
                "error": error,
                "message": {
                    "promise": _("Thank you: your promise to pay is recorded."),
                    "dispute": _("Thank you: your dispute is recorded. We will get back to you."),
                    "plan": _("Thank you: your payment plan request is recorded. We will get back to you."),
                }.get(message),
                "statement_date": fields.Date.to_string(values["today"]),
            }
        )
        return request.render("credit_control.portal_my_credit", values, status=status)

    # === STATEMENT === #
    @http.route("/my/credit/statement", type="http", auth="public", website=True, sitemap=False)
    def portal_my_credit_statement(self, access_token=None, date=None, **kw):
        partner, company = self._credit_portal_customer(access_token, kw.get("company_id"))
        self._credit_portal_context(partner)
        try:
            as_of = fields.Date.to_date(date) if date else fields.Date.context_today(partner)
        except ValueError:
            as_of = None
        if not as_of or as_of > fields.Date.context_today(partner):
            return self._credit_portal_render(
                partner, company, access_token=access_token, error=_("Choose a date up to today."), status=400
            )
        report = request.env["ir.actions.report"].sudo().with_company(company).with_context(lang=partner.lang)
        pdf, _type = report._render_qweb_pdf(
            "credit_control.report_credit_statement",
            [partner.id],
            data={"date": fields.Date.to_string(as_of), "company_id": company.id},
        )
        partner._message_log(body=_("Account statement as of %(date)s downloaded on the portal.", date=as_of))
        filename = _("Statement %(name)s %(date)s", name=partner.name, date=as_of) + ".pdf"
        return request.make_response(
            pdf,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(pdf)),
                ("Content-Disposition", content_disposition(filename)),
            ],
        )

    @http.route(
        "/my/credit/plan/<int:plan_id>/agreement", type="http", auth="public", website=True, sitemap=False
    )
    def portal_my_credit_plan_agreement(self, plan_id, access_token=None, **kw):
        partner, company = self._credit_portal_customer(access_token, kw.get("company_id"))
        self._credit_portal_context(partner)
        plan = request.env["credit.payment.plan"].sudo().browse(plan_id).exists()
        if not plan or plan.partner_id != partner or plan.company_id != company or plan.state == "draft":
            raise NotFound()
        report = request.env["ir.actions.report"].sudo().with_company(company).with_context(lang=partner.lang)
        pdf, _type = report._render_qweb_pdf("credit_control.report_payment_plan", plan.ids)
        return request.make_response(
            pdf,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(pdf)),
                ("Content-Disposition", content_disposition(f"{plan.name}.pdf")),
            ],
        )

    # === FORMS === #
    def _credit_portal_submit(self, access_token, company_id, message, create):
        """Run ``create(partner, company, author)`` in a savepoint: on bad input the page again
        with the message (status 400) and nothing written, else back to the page."""
        partner, company = self._credit_portal_customer(access_token, company_id)
        self._credit_portal_context(partner)
        user = request.env.user
        author = partner if user._is_public() else user.partner_id
        try:
            with request.env.cr.savepoint():
                create(partner.with_context(lang=request.env.lang), company, author)
        except (UserError, ValidationError, AccessError) as error:
            return self._credit_portal_render(
                partner, company, access_token=access_token, error=error.args[0], status=400
            )
        return request.redirect(self._credit_portal_url(access_token, message=message))

    @staticmethod
    def _credit_portal_date(value, label):
        try:
            return fields.Date.to_date(value)
        except ValueError:
            raise UserError(_("%(field)s: enter a valid date.", field=label)) from None

    @staticmethod
    def _credit_portal_number(value, label, integer=False):
        try:
            number = int(value) if integer else float(value)
        except (TypeError, ValueError):
            raise UserError(_("%(field)s: enter a number.", field=label)) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise UserError(_("%(field)s: enter a number.", field=label))
        return number

    @http.route(
        "/my/credit/promise", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def portal_my_credit_promise(self, access_token=None, company_id=None, **post):
        move_ids = request.httprequest.form.getlist("move_ids")

        def create(partner, company, author):
            date = self._credit_portal_date(post.get("date_promised"), _("Promised date"))
            amount = self._credit_portal_number(post.get("amount"), _("Amount"))
            if not date:
                raise UserError(_("Promised date: enter a valid date."))
            partner._credit_portal_create_promise(company, move_ids, date, amount, post.get("note"), author)

        return self._credit_portal_submit(access_token, company_id, "promise", create)

    @http.route(
        "/my/credit/dispute", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def portal_my_credit_dispute(self, access_token=None, company_id=None, **post):
        files = [
            {"name": file.filename, "content": file.read()}
            for file in request.httprequest.files.getlist("attachments")
            if file and file.filename
        ]

        def create(partner, company, author):
            amount = self._credit_portal_number(post.get("amount"), _("Disputed amount"))
            move_id = self._credit_portal_number(post.get("move_id"), _("Invoice"), integer=True)
            partner._credit_portal_create_dispute(
                company, move_id, post.get("reason"), amount, post.get("description"), files, author
            )

        return self._credit_portal_submit(access_token, company_id, "dispute", create)

    @http.route("/my/credit/plan", type="http", auth="public", methods=["POST"], website=True, sitemap=False)
    def portal_my_credit_plan_request(self, access_token=None, company_id=None, **post):
        move_ids = request.httprequest.form.getlist("move_ids")

        def create(partner, company, author):
            count = self._credit_portal_number(post.get("instalment_count"), _("Number of instalments"), True)
            date = self._credit_portal_date(post.get("date_first"), _("First instalment"))
            if not date:
                raise UserError(_("First instalment: enter a valid date."))
            partner._credit_portal_create_plan_request(
                company, move_ids, count, date, post.get("note"), author
            )

        return self._credit_portal_submit(access_token, company_id, "plan", create)

    # === PAY NOW === #
    @http.route("/my/credit/pay/<int:move_id>", type="http", auth="public", website=True, sitemap=False)
    def portal_my_credit_pay(self, move_id, access_token=None, amount=None, **kw):
        """Odoo's payment flow for one open invoice of the customer (account_payment's payment
        link): the open amount, or a part of it where the company allows partial payments."""
        partner, company = self._credit_portal_customer(access_token, kw.get("company_id"))
        self._credit_portal_context(partner)
        move = (
            request.env["account.move"]
            .sudo()
            .search(partner._credit_portal_open_items_domain(company) + [("id", "=", move_id)])
        )
        if not move or move.move_type != "out_invoice":
            raise NotFound()
        residual = move.amount_residual
        try:
            pay = float(amount) if amount and company.credit_portal_partial_payment else residual
        except ValueError:
            pay = 0.0
        if float_compare(pay, 0.0, precision_rounding=move.currency_id.rounding) <= 0 or (
            float_compare(pay, residual, precision_rounding=move.currency_id.rounding) > 0
        ):
            return self._credit_portal_render(
                partner,
                company,
                access_token=access_token,
                error=_("Enter an amount between 0 and the open amount of %(name)s.", name=move.name),
                status=400,
            )
        pay = move.currency_id.round(pay)
        note = _(
            "Online payment of %(amount)s for %(name)s started on the customer portal.",
            amount=format_amount(request.env, pay, move.currency_id),
            name=move.name,
        )
        (partner | move.partner_id)._message_log_batch(dict.fromkeys((partner | move.partner_id).ids, note))
        move._message_log(body=note)
        params = {
            "amount": pay,
            "access_token": payment_utils.generate_access_token(move.partner_id.id, pay, move.currency_id.id),
            "currency_id": move.currency_id.id,
            "partner_id": move.partner_id.id,
            "company_id": company.id,
            "invoice_id": move.id,
        }
        return request.redirect(f"/payment/pay?{url_encode(params)}")
