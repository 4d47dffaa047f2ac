import base64
import re
from datetime import timedelta

from lxml import html

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon


class PortalCommon(AccountTestInvoicingHttpCommon):
    """Two customers, each with a portal user and open invoices; the portal on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        cls.company = cls.company_data["company"]
        cls.company.write({"credit_portal_enabled": True, "credit_portal_max_requests": 20})
        cls.collector = new_test_user(
            cls.env,
            "cc_portal_collector",
            groups="base.group_user,account.group_account_invoice,credit_control.credit_control_group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.customer_a = cls.env["res.partner"].create(
            {
                "name": "Muster GmbH",
                "is_company": True,
                "credit_manager_id": cls.collector.id,
                "lang": "en_US",
            }
        )
        cls.customer_b = cls.env["res.partner"].create({"name": "Beispiel AG", "is_company": True})
        cls.user_a = cls._portal_user("cc_portal_a", cls.customer_a)
        cls.user_b = cls._portal_user("cc_portal_b", cls.customer_b)
        cls.invoice_a = cls._invoice(1000.0, cls.customer_a, days_ago=30)
        cls.invoice_a2 = cls._invoice(400.0, cls.customer_a, days_ago=5)
        cls.invoice_b = cls._invoice(700.0, cls.customer_b, days_ago=20)

    @classmethod
    def _portal_user(cls, login, customer):
        contact = cls.env["res.partner"].create(
            {"name": f"Contact {login}", "parent_id": customer.id, "email": f"{login}@example.com"}
        )
        return new_test_user(
            cls.env,
            login,
            groups="base.group_portal",
            partner_id=contact.id,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _invoice(cls, amount, partner, days_ago=0):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": cls.today - timedelta(days=days_ago),
                "invoice_payment_term_id": cls.env.ref("account.account_payment_term_immediate").id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Goods", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def authenticate(self, user, password, browser=None):
        self._csrf_token = None
        return super().authenticate(user, password, browser)

    def _csrf(self, url="/my/credit"):
        """Odoo's CSRF token of the page's forms (once per session)."""
        if getattr(self, "_csrf_token", None):
            return self._csrf_token
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, response.text[:500])
        self._csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
        return self._csrf_token

    def _post(self, url, data, token=None, files=None, page="/my/credit"):
        data = dict(data, csrf_token=self._csrf(page))
        if token:
            data["access_token"] = token
        return self.url_open(url, data=data, files=files, allow_redirects=False)

    def _counts(self):
        return (
            self.env["credit.promise"].search_count([]),
            self.env["credit.dispute"].search_count([]),
            self.env["credit.payment.plan.request"].search_count([]),
        )

    def _blocked(self, moves):
        return self.env["account.move"]._credit_dunning_blocked_move_ids(moves.ids, self.today)


@tagged("post_install", "-at_install")
class TestPortal(PortalCommon):
    """Who sees what (portal users of two customers, signed links, foreign ids and tokens); the
    promise, dispute and payment plan request of the portal (validated, tasks, dunning); the
    customer's tour. One class: the accounting fixture is set up once (the run stays short)."""

    # --- access ---

    def test_portal_user_sees_own_items_only(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        response = self.url_open("/my/credit")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_a.name, response.text)
        self.assertIn(self.invoice_a2.name, response.text)
        self.assertNotIn(self.invoice_b.name, response.text)
        # "Pay Now" on a phone too: under the amount (below md), in its own column from md up
        row = html.fromstring(response.text).xpath(f"//tr[@data-move-id='{self.invoice_a.id}']")[0]
        pay = f"/my/credit/pay/{self.invoice_a.id}"
        self.assertEqual(
            sorted(form.getparent().get("class") for form in row.iter("form") if form.get("action") == pay),
            ["d-md-none mt-1", "d-none d-md-table-cell text-end"],
        )
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["credit_item_count"]})
        self.assertEqual(counters["credit_item_count"], 2)

    def test_anonymous_without_token_refused(self):
        response = self.url_open("/my/credit", allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        response = self.url_open("/my/credit/statement", allow_redirects=False)
        self.assertEqual(response.status_code, 403)

    def test_signed_link_opens_page_without_password(self):
        token = self.customer_a._credit_portal_token(self.company)
        response = self.url_open(f"/my/credit?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_a.name, response.text)
        self.assertNotIn(self.invoice_b.name, response.text)
        # the link of a dunning letter carries such a token
        url = self.customer_a._credit_portal_url(self.company)
        checked = self.env["res.partner"]._credit_portal_check_token(url.split("access_token=")[1])
        self.assertEqual(checked, (self.customer_a, self.company))

    def test_bad_tokens_refused(self):
        good = self.customer_a._credit_portal_token(self.company)
        expired = self.customer_a._credit_portal_token(self.company, expiration_hours=-1)
        forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        for token in (expired, forged, "garbage", self.invoice_a._portal_ensure_token()):
            response = self.url_open(f"/my/credit?access_token={token}", allow_redirects=False)
            self.assertEqual(response.status_code, 403, token)
        # revoked: a new secret invalidates the links sent so far (the credit team's decision)
        with self.assertRaisesRegex(AccessError, "Only the credit team revokes"):
            self.customer_a.with_user(self.user_a).action_credit_portal_revoke_links()
        self.customer_a.with_user(self.collector).action_credit_portal_revoke_links()
        response = self.url_open(f"/my/credit?access_token={good}", allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        # the portal switched off: links stop working
        token = self.customer_a._credit_portal_token(self.company)
        self.company.credit_portal_enabled = False
        response = self.url_open(f"/my/credit?access_token={token}", allow_redirects=False)
        self.assertEqual(response.status_code, 403)

    def test_revoke_button_for_the_credit_team(self):
        """The customer form offers the revocation to the credit team (it sits in the Dunning group
        of the Credit tab, which is for the credit team only)."""
        salesman = new_test_user(self.env, "cc_portal_salesman", groups="sales_team.group_sale_salesman")
        for user, shown in ((self.collector, True), (salesman, False)):
            arch = (
                self.env["res.partner"].with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
            )
            self.assertEqual('name="action_credit_portal_revoke_links"' in arch, shown, user.login)

    def test_foreign_token_refused_for_logged_in_user(self):
        token_b = self.customer_b._credit_portal_token(self.company)
        self.authenticate("cc_portal_a", "cc_portal_a")
        response = self.url_open(f"/my/credit?access_token={token_b}", allow_redirects=False)
        self.assertEqual(response.status_code, 403)

    def test_no_cross_access_through_ids(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        before = self._counts()
        response = self._post(
            "/my/credit/promise",
            {"move_ids": self.invoice_b.id, "date_promised": str(self.today), "amount": "10"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("not open invoices of your account", response.text)
        response = self._post(
            "/my/credit/dispute",
            {"move_id": self.invoice_b.id, "reason": "price", "amount": "10", "description": "x"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._counts(), before)
        response = self.url_open(f"/my/credit/pay/{self.invoice_b.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 404)
        plan = self.env["credit.payment.plan"].create(
            {
                "partner_id": self.customer_b.id,
                "move_ids": [Command.set(self.invoice_b.ids)],
                "amount_total": 700.0,
                "instalment_count": 2,
                "date_first": self.today + timedelta(days=10),
            }
        )
        plan.action_activate()
        response = self.url_open(f"/my/credit/plan/{plan.id}/agreement", allow_redirects=False)
        self.assertEqual(response.status_code, 404)
        # B's own plan shows on B's page only, with its agreement
        self.authenticate("cc_portal_b", "cc_portal_b")
        response = self.url_open("/my/credit")
        self.assertIn(plan.name, response.text)
        response = self.url_open(f"/my/credit/plan/{plan.id}/agreement")
        self.assertEqual(response.status_code, 200)

    def test_csrf_required(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        before = self._counts()
        response = self.url_open(
            "/my/credit/promise",
            data={
                "move_ids": self.invoice_a.id,
                "date_promised": str(self.today + timedelta(days=5)),
                "amount": "100",
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._counts(), before)

    def test_statement_download(self):
        token = self.customer_a._credit_portal_token(self.company)
        response = self.url_open(f"/my/credit/statement?access_token={token}&date={self.today}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        # in test mode Odoo renders the report as HTML: the customer's own items only
        self.assertIn(self.invoice_a.name, response.text)
        self.assertNotIn(self.invoice_b.name, response.text)
        future = self.today + timedelta(days=3)
        response = self.url_open(f"/my/credit/statement?access_token={token}&date={future}")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Choose a date up to today", response.text)

    def test_pay_now(self):
        token = self.customer_a._credit_portal_token(self.company)
        response = self.url_open(
            f"/my/credit/pay/{self.invoice_a.id}?access_token={token}&amount=100", allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        location = response.headers["Location"]
        self.assertIn("/payment/pay?", location)
        self.assertIn("amount=1000.0", location, "no partial payments unless the company allows them")
        self.assertIn(f"invoice_id={self.invoice_a.id}", location)
        self.company.credit_portal_partial_payment = True
        response = self.url_open(
            f"/my/credit/pay/{self.invoice_a.id}?access_token={token}&amount=100", allow_redirects=False
        )
        self.assertIn("amount=100.0", response.headers["Location"])
        for amount in ("0", "-5", "1000.01", "abc"):
            response = self.url_open(
                f"/my/credit/pay/{self.invoice_a.id}?access_token={token}&amount={amount}",
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 400, amount)

    # --- promise, dispute, payment plan request ---
    def test_promise_from_portal(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        date = self.today + timedelta(days=10)
        response = self._post(
            "/my/credit/promise",
            {"move_ids": self.invoice_a.id, "date_promised": str(date), "amount": "600", "note": "Next week"},
        )
        self.assertEqual(response.status_code, 303, response.text[:1000])
        promise = self.env["credit.promise"].search([("partner_id", "=", self.customer_a.id)])
        self.assertEqual(len(promise), 1)
        self.assertEqual(promise.channel, "portal")
        self.assertEqual(promise.amount, 600.0)
        self.assertEqual(promise.date_promised, date)
        task = self.env["credit.task"].search([("promise_id", "=", promise.id)])
        self.assertEqual(task.origin, "portal")
        self.assertEqual(task.user_id, self.collector, "the customer's collector gets the task")
        self.assertIn(self.invoice_a.id, self._blocked(self.invoice_a), "dunning paused")
        self.assertNotIn(self.invoice_a2.id, self._blocked(self.invoice_a2))
        self.assertTrue(
            self.customer_a.message_ids.filtered(lambda m: "customer portal" in (m.body or "")),
            "the customer's chatter tells",
        )
        self.assertTrue(promise.message_ids.filtered(lambda m: "customer portal" in (m.body or "")))
        page = self.url_open("/my/credit?message=promise")
        self.assertIn(promise.name, page.text)
        self.assertIn("your promise to pay is recorded", page.text)

    def test_promise_bad_input_refused(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        before = self._counts()
        future = str(self.today + timedelta(days=5))
        cases = [
            (
                {
                    "move_ids": self.invoice_a.id,
                    "date_promised": str(self.today - timedelta(days=1)),
                    "amount": "10",
                },
                "cannot be dated in the past",
            ),
            (
                {"move_ids": self.invoice_a.id, "date_promised": future, "amount": "1000.01"},
                "more than the open",
            ),
            ({"move_ids": self.invoice_a.id, "date_promised": future, "amount": "0"}, "must be positive"),
            ({"move_ids": self.invoice_a.id, "date_promised": future, "amount": "abc"}, "enter a number"),
            ({"move_ids": self.invoice_a.id, "date_promised": "31.02.2024", "amount": "5"}, "valid date"),
            ({"date_promised": future, "amount": "5"}, "Select at least one invoice"),
            ({"move_ids": "x", "date_promised": future, "amount": "5"}, "Select at least one invoice"),
        ]
        for data, message in cases:
            response = self._post("/my/credit/promise", data)
            self.assertEqual(response.status_code, 400, data)
            self.assertIn(message, response.text, data)
        self.assertEqual(self._counts(), before, "nothing written")
        self.assertFalse(self.env["credit.task"].search([("origin", "=", "portal")]))

    def test_dispute_from_portal_with_file(self):
        token = self.customer_a._credit_portal_token(self.company)
        response = self._post(
            "/my/credit/dispute",
            {
                "move_id": self.invoice_a2.id,
                "reason": "quality",
                "amount": "150",
                "description": "Broken parts",
            },
            token=token,
            files={"attachments": ("photo.txt", b"broken", "text/plain")},
            page=f"/my/credit?access_token={token}",
        )
        self.assertEqual(response.status_code, 303, response.text[:1000])
        self.assertIn(token, response.headers["Location"], "back to the page with the link's token")
        dispute = self.env["credit.dispute"].search([("partner_id", "=", self.customer_a.id)])
        self.assertEqual((dispute.reason, dispute.amount, dispute.portal_submitted), ("quality", 150.0, True))
        self.assertEqual(dispute.move_ids, self.invoice_a2)
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "credit.dispute"), ("res_id", "=", dispute.id)]
        )
        self.assertEqual(base64.b64decode(attachment.datas), b"broken")
        self.assertTrue(dispute.task_ids, "the dispute's task is opened")
        self.assertIn(self.invoice_a2.id, self._blocked(self.invoice_a2), "dunning paused")
        # the customer sees the state and the resolution
        dispute.resolution = "Credit note for the broken parts"
        dispute.action_resolve()
        page = self.url_open(f"/my/credit?access_token={token}")
        self.assertIn("Credit note for the broken parts", page.text)

    def test_dispute_bad_input_refused(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        before = self._counts()
        base = {"move_id": self.invoice_a.id, "reason": "price", "amount": "10", "description": "Too high"}
        cases = [
            (dict(base, reason="bogus"), "reason of the dispute"),
            (dict(base, description="  "), "Describe what is wrong"),
            (dict(base, amount="1000.01"), "more than the invoiced amount"),
            (dict(base, amount="-1"), "must be positive"),
            (dict(base, move_id="abc"), "enter a number"),
        ]
        for data, message in cases:
            response = self._post("/my/credit/dispute", data)
            self.assertEqual(response.status_code, 400, data)
            self.assertIn(message, response.text, data)
        self.assertEqual(self._counts(), before, "nothing written")

    def test_plan_request_approved_and_refused(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        first = self.today + timedelta(days=7)
        response = self._post(
            "/my/credit/plan",
            {
                "move_ids": [self.invoice_a.id, self.invoice_a2.id],
                "instalment_count": "4",
                "date_first": str(first),
            },
        )
        self.assertEqual(response.status_code, 303, response.text[:1000])
        request = self.env["credit.payment.plan.request"].search([("partner_id", "=", self.customer_a.id)])
        self.assertEqual(
            (request.state, request.instalment_count, request.amount_open), ("requested", 4, 1400.0)
        )
        self.assertEqual(request.task_ids.origin, "portal")
        self.assertEqual(
            set(self._blocked(self.invoice_a | self.invoice_a2)), {self.invoice_a.id, self.invoice_a2.id}
        )
        request.with_user(self.collector).action_approve()
        self.assertEqual(request.state, "approved")
        self.assertEqual(request.plan_id.state, "active")
        self.assertEqual(len(request.plan_id.line_ids), 4)
        self.assertFalse(request.task_ids.filtered("is_open"), "the decision closes the task")
        page = self.url_open("/my/credit")
        self.assertIn(request.plan_id.name, page.text)
        # a refusal needs a reason the customer sees
        invoice = self._invoice(50.0, self.customer_a)
        self._post(
            "/my/credit/plan", {"move_ids": invoice.id, "instalment_count": "2", "date_first": str(first)}
        )
        second = self.env["credit.payment.plan.request"].search([("move_ids", "in", invoice.ids)])
        with self.assertRaisesRegex(UserError, "needs a reason"):
            second.with_user(self.collector).action_refuse()
        second.with_user(self.collector).refusal_reason = "Too small for instalments"
        second.with_user(self.collector).action_refuse()
        self.assertEqual(second.state, "refused")
        self.assertNotIn(invoice.id, self._blocked(invoice), "dunning resumes")
        self.assertIn("Too small for instalments", self.url_open("/my/credit").text)

    def test_plan_request_bad_input_refused(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        before = self._counts()
        future = str(self.today + timedelta(days=7))
        cases = [
            (
                {"move_ids": self.invoice_a.id, "instalment_count": "0", "date_first": future},
                "between 1 and 24",
            ),
            (
                {"move_ids": self.invoice_a.id, "instalment_count": "99", "date_first": future},
                "between 1 and 24",
            ),
            (
                {"move_ids": self.invoice_a.id, "instalment_count": "2.5", "date_first": future},
                "enter a number",
            ),
            (
                {
                    "move_ids": self.invoice_a.id,
                    "instalment_count": "2",
                    "date_first": str(self.today - timedelta(days=1)),
                },
                "cannot be dated in the past",
            ),
            (
                {"move_ids": self.invoice_b.id, "instalment_count": "2", "date_first": future},
                "not open invoices",
            ),
        ]
        for data, message in cases:
            response = self._post("/my/credit/plan", data)
            self.assertEqual(response.status_code, 400, data)
            self.assertIn(message, response.text, data)
        self.assertEqual(self._counts(), before, "nothing written")

    def test_rate_limit_per_customer(self):
        self.company.credit_portal_max_requests = 2
        self.authenticate("cc_portal_a", "cc_portal_a")
        future = str(self.today + timedelta(days=5))
        for _i in range(2):
            response = self._post(
                "/my/credit/promise", {"move_ids": self.invoice_a.id, "date_promised": future, "amount": "1"}
            )
            self.assertEqual(response.status_code, 303)
        response = self._post(
            "/my/credit/dispute",
            {"move_id": self.invoice_a.id, "reason": "price", "amount": "10", "description": "x"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("limit of 2 requests per day", response.text)
        # the other customer has its own count
        self.authenticate("cc_portal_b", "cc_portal_b")
        response = self._post(
            "/my/credit/promise", {"move_ids": self.invoice_b.id, "date_promised": future, "amount": "1"}
        )
        self.assertEqual(response.status_code, 303)

    def test_page_queries_do_not_grow_with_items(self):
        """The page's values: the same number of queries for 1 and for 5 open items (pages of 2)."""
        partner = self.customer_b.sudo()

        def count():
            self.env.invalidate_all()
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            values = partner._credit_portal_values(self.company, step=2)
            self.env.flush_all()
            return self.env.cr.sql_log_count - before, values

        count()  # warm-up: the registry's caches (rules, translations) are not part of the page
        one, values = count()
        self.assertEqual(values["items_count"], 1)
        for _i in range(4):
            self._invoice(10.0, self.customer_b, days_ago=3)
        many, values = count()
        self.assertEqual(values["items_count"], 5)
        self.assertEqual(len(values["items"]), 2, "one page")
        self.assertEqual(values["balance"], 740.0)
        self.assertEqual(one, many)

    def test_letter_shows_portal_link(self):
        html = self.env["ir.qweb"]._render(
            "credit_control.portal_letter_link", {"o": self.invoice_a, "image_data_uri": lambda v: v}
        )
        self.assertIn("/my/credit", str(html))
        self.company.credit_portal_enabled = False
        html = self.env["ir.qweb"]._render(
            "credit_control.portal_letter_link", {"o": self.invoice_a, "image_data_uri": lambda v: v}
        )
        self.assertNotIn("/my/credit", str(html))

    def test_dunning_email_links_to_portal(self):
        level = self.env["credit.dunning.level"].search([("company_id", "=", self.company.id)], limit=1)
        run = self.env["credit.dunning.run"].sudo().create({"company_id": self.company.id})
        letter = (
            self.env["credit.dunning.letter"]
            .sudo()
            .create(
                {
                    "run_id": run.id,
                    "partner_id": self.customer_a.id,
                    "recipient_id": self.customer_a.id,
                    "level_id": level.id,
                    "currency_id": self.company.currency_id.id,
                }
            )
        )
        groups = letter._notify_get_recipients_groups(self.env["mail.message"], "Letter")
        name, match, data = groups[0]
        self.assertEqual(name, "credit_portal_customer")
        self.assertTrue(match({"id": self.customer_a.id}))
        self.assertFalse(match({"id": self.customer_b.id}))
        token = data["button_access"]["url"].split("access_token=")[1]
        self.assertEqual(
            self.env["res.partner"]._credit_portal_check_token(token), (self.customer_a, self.company)
        )
        self.company.credit_portal_enabled = False
        groups = letter._notify_get_recipients_groups(self.env["mail.message"], "Letter")
        self.assertNotEqual(groups[0][0], "credit_portal_customer")

    # --- tour ---
    def test_portal_tour(self):
        self.start_tour("/my/credit", "credit_portal_tour", login="cc_portal_a")
        promise = self.env["credit.promise"].search([("partner_id", "=", self.customer_a.id)])
        self.assertEqual(promise.channel, "portal")
        dispute = self.env["credit.dispute"].search([("partner_id", "=", self.customer_a.id)])
        self.assertEqual(dispute.reason, "quality")
