from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import SQL

from .common import CreditControlCommon, ManifestsReadMixin


class CoreLimitCommon(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_a.invoice_policy = "order"
        cls.customer.user_id = cls.sales_user

    def _partner(self, name, **vals):
        return self.env["res.partner"].create(
            {"name": name, "is_company": True, "user_id": self.sales_user.id, **vals}
        )

    def _assert_blocked(self, amount, partner=None, limit_text=None):
        order = self._order(amount, partner)
        # Odoo's assertRaises rolls the failed call back, as the RPC transaction would be
        with self.assertRaises(UserError) as error:
            order.with_user(self.sales_user).action_confirm()
        self.assertIn("credit limit", str(error.exception))
        if limit_text:
            self.assertIn(limit_text, str(error.exception))
        self.assertEqual(order.state, "draft")

    def _assert_confirms(self, amount, partner=None):
        order = self._order(amount, partner)
        order.with_user(self.sales_user).action_confirm()
        self.assertEqual(order.state, "sale")

    def _limit(self, partner):
        return partner._credit_limits_in_force()[partner.commercial_partner_id.id]


@tagged("post_install", "-at_install")
class TestOneCreditLimit(CoreLimitCommon):
    """Issue #13: Odoo's own credit_limit / use_partner_credit_limit decide, as in core."""

    def test_limit_set_in_the_form_is_enforced(self):
        with Form(self.customer.with_user(self.credit_manager)) as form:
            form.use_partner_credit_limit = True
            form.credit_limit = 500.0
        self.assertTrue(self.customer.credit_limit_set)
        self.assertTrue(self.customer.use_partner_credit_limit)
        self.assertEqual(self._limit(self.customer), 500.0)
        self._assert_blocked(600.0, limit_text="500.00")
        self._assert_confirms(400.0)

    def test_limit_written_alone_is_in_force_and_unset_unsets_it(self):
        self.customer.with_user(self.credit_manager).write({"credit_limit": 800.0})
        self.assertTrue(self.customer.use_partner_credit_limit)
        self.assertEqual(self._limit(self.customer), 800.0)
        self._assert_blocked(900.0, limit_text="800.00")
        self.customer.with_user(self.credit_manager).write({"use_partner_credit_limit": False})
        self.assertFalse(self.customer.credit_limit_set)
        self.assertEqual(self.customer.credit_limit, 0.0, "back to the company default, as in core")
        self.assertIsNone(self._limit(self.customer))
        self._assert_confirms(900.0)

    def test_limit_imported_is_enforced(self):
        result = (
            self.env["res.partner"]
            .with_user(self.credit_manager)
            .load(
                ["name", "is_company", "user_id/id", "credit_limit"],
                [["Import GmbH", "1", "base.user_admin", "750"]],
            )
        )
        self.assertFalse(result["messages"], result["messages"])
        imported = self.env["res.partner"].browse(result["ids"])
        imported.user_id = self.sales_user
        self.assertTrue(imported.credit_limit_set)
        self.assertEqual(self._limit(imported), 750.0)
        self._assert_blocked(800.0, imported, limit_text="750.00")
        # a salesperson cannot import a limit: the import reports the refusal, nothing is created
        result = (
            self.env["res.partner"]
            .with_user(self.sales_user)
            .load(["name", "credit_limit"], [["Sales Import GmbH", "1000000"]])
        )
        self.assertFalse(result["ids"])
        self.assertIn("Only Credit Managers", result["messages"][0]["message"])
        self.assertFalse(self.env["res.partner"].search_count([("name", "=", "Sales Import GmbH")]))

    def test_zero_is_prepayment_only(self):
        self._set_limit(self.customer, 0.0)
        self.assertTrue(self.customer.use_partner_credit_limit)
        self.assertEqual(self._limit(self.customer), 0.0)
        self._assert_blocked(10.0, limit_text="0.00")

    def test_company_default_limit_applies_as_in_core(self):
        self.env["ir.default"].set("res.partner", "credit_limit", 400.0, company_id=self.company.id)
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.account_default_credit_limit, 400.0)
        fresh = self._partner("Default Limit KG")
        self.assertFalse(fresh.use_partner_credit_limit)
        self.assertEqual(self._limit(fresh), 400.0)
        self.assertEqual(self._limit(self.contact), 400.0, "a contact is limited through its company")
        self._assert_blocked(500.0, fresh, limit_text="400.00")
        self._assert_confirms(300.0, fresh)
        # an own limit wins over the default, also 0 and also one equal to the default
        own = self._partner("Own Limit KG")
        self._set_limit(own, 0.0)
        self.assertEqual(self._limit(own), 0.0)
        self._set_limit(own, 2000.0)
        self.assertEqual(self._limit(own), 2000.0)
        self._assert_confirms(1500.0, own)
        # no default: no limit
        self.env["ir.default"].set("res.partner", "credit_limit", 0.0, company_id=self.company.id)
        self.assertIsNone(self._limit(fresh))

    def test_limit_per_company(self):
        company_b = self.setup_other_company(name="Zweite GmbH")["company"]
        self._set_limit(self.customer, 100.0, company=company_b)
        self.assertIsNone(self._limit(self.customer))
        self.assertEqual(self._limit(self.customer.with_company(company_b)), 100.0)

    def test_install_adopts_the_limits_set_in_core(self):
        """Customers whose own limit was in force in core keep it; the chatter says how many."""
        adopted = self._partner("Core Limit AG")
        zero = self._partner("Zero Limit AG")
        contact = self.env["res.partner"].create({"name": "Copied Contact", "parent_id": adopted.id})
        key = str(self.company.id)
        self.env["res.partner"].flush_model()
        # the state core Odoo leaves: a per-company credit_limit, no module flag (contacts got
        # a copy through core's commercial-field sync)
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET credit_limit = jsonb_build_object(%(key)s, %(limit)s::float8), "
                "credit_limit_set = NULL WHERE id IN %(ids)s",
                key=key,
                limit=900.0,
                ids=(adopted.id, contact.id),
            )
        )
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET credit_limit = jsonb_build_object(%(key)s, 0::float8) "
                "WHERE id = %(id)s",
                key=key,
                id=zero.id,
            )
        )
        self.env["res.partner"].invalidate_model()
        self.assertIsNone(self._limit(adopted), "not enforced before the adoption")
        counts = self.env["res.partner"]._credit_adopt_core_limits()
        self.assertEqual(counts[self.company.id], 1)
        self.assertTrue(adopted.credit_limit_set)
        self.assertEqual(self._limit(adopted), 900.0)
        self.assertFalse(contact.credit_limit_set)
        self.assertFalse(zero.credit_limit_set)
        adopted.user_id = self.sales_user
        self._assert_blocked(1000.0, adopted, limit_text="900.00")
        message = self.company.partner_id.message_ids[:1]
        self.assertIn("1 customers", message.body)
        # running it again adopts nobody twice
        self.assertEqual(self.env["res.partner"]._credit_adopt_core_limits()[self.company.id], 0)

    def test_odoo_duplicates_hidden_on_the_customer_form(self):
        arch = (
            self.env["res.partner"]
            .with_user(self.credit_manager)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn('name="credit_limits"', arch)
        self.assertRegex(
            arch,
            r'<group[^>]*name="credit_limits"[^>]*invisible="True"|'
            r'<group[^>]*invisible="True"[^>]*name="credit_limits"',
        )
        self.assertIn('name="use_partner_credit_limit"', arch)


@tagged("post_install", "-at_install")
class TestProfileRpc(ManifestsReadMixin, CoreLimitCommon, HttpCase):
    """Protected fields at creation, default_* keys and dunning pauses over JSON-RPC, as an
    external client would call them."""

    def _call(self, model, method, args, kwargs=None):
        response = self._call_kw_response(model, method, args, kwargs)
        self.env.invalidate_all()
        return response.json()

    def _assert_error(self, reply, name, text):
        self.assertIn("error", reply, reply)
        self.assertEqual(reply["error"]["data"]["name"], name)
        self.assertIn(text, reply["error"]["data"]["message"])

    def test_salesperson_creates_customer_with_limit_and_rating(self):
        self.authenticate("cc_sales", "cc_sales")
        rating = self.env.ref("credit_control.credit_rating_a")
        reply = self._call(
            "res.partner",
            "create",
            [{"name": "Huge Limit GmbH", "credit_limit": 1e12, "credit_rating_id": rating.id}],
        )
        self._assert_error(reply, "odoo.exceptions.AccessError", "Only Credit Managers")
        self.assertFalse(self.env["res.partner"].search_count([("name", "=", "Huge Limit GmbH")]))
        context = {
            "default_credit_limit": 1e12,
            "default_use_partner_credit_limit": True,
            "default_credit_limit_set": True,
            "default_credit_rating_id": rating.id,
            "default_credit_rating_source": "manual",
            "default_credit_score": 100,
        }
        reply = self._call("res.partner", "create", [{"name": "Default GmbH"}], {"context": context})
        self.assertIn("result", reply, reply)
        partner = self.env["res.partner"].browse(reply["result"])
        self.assertFalse(partner.credit_limit_set)
        self.assertEqual(partner.credit_limit, 0.0)
        self.assertFalse(partner.credit_rating_id)
        self.assertFalse(partner.credit_rating_source)
        self.assertIsNone(self._limit(partner))

    def test_salesperson_creates_approved_limit_request(self):
        self.authenticate("cc_sales", "cc_sales")
        vals = {"partner_id": self.customer.id, "amount_requested": 1e9, "reason": "Trust me"}
        reply = self._call("credit.limit.request", "create", [{**vals, "state": "approved"}])
        self._assert_error(reply, "odoo.exceptions.AccessError", "only through their buttons")
        context = {"default_state": "approved", "default_decided_by_id": self.credit_manager.id}
        reply = self._call("credit.limit.request", "create", [vals], {"context": context})
        request = self.env["credit.limit.request"].browse(reply["result"])
        self.assertEqual(request.state, "draft")
        self.assertFalse(request.decided_by_id)
        self.assertEqual(
            self.env["credit.limit.request"].search_count([("partner_id", "=", self.customer.id)]), 1
        )
        self.assertFalse(self.customer.credit_limit_set)

    def test_credit_check_created_done_over_rpc(self):
        vals = {"partner_id": self.customer.id, "kind": "bureau", "provider_score": 20.0}
        self.authenticate("cc_sales", "cc_sales")
        reply = self._call("credit.check", "create", [vals], {"context": {"default_state": "done"}})
        self._assert_error(reply, "odoo.exceptions.AccessError", "not allowed")
        self.authenticate("cc_collector", "cc_collector")
        reply = self._call("credit.check", "create", [{**vals, "state": "done"}])
        self._assert_error(reply, "odoo.exceptions.AccessError", "only through their buttons")
        reply = self._call("credit.check", "create", [vals], {"context": {"default_state": "done"}})
        check = self.env["credit.check"].browse(reply["result"])
        self.assertEqual(check.state, "draft")
        self.assertEqual(self.env["credit.check"].search_count([("partner_id", "=", self.customer.id)]), 1)
        self.assertFalse(self.customer.credit_score)

    def test_salesperson_cannot_pause_dunning_over_rpc(self):
        self.authenticate("cc_sales", "cc_sales")
        reply = self._call(
            "res.partner",
            "write",
            [self.customer.ids, {"credit_dunning_pause": True, "credit_dunning_pause_reason": "friend"}],
        )
        self._assert_error(reply, "odoo.exceptions.AccessError", "Only the credit team pauses")
        self.assertFalse(self.customer.credit_dunning_pause)
        self.customer.with_user(self.collector)._credit_dunning_pause("Checking insolvency")
        reply = self._call("res.partner", "action_credit_dunning_resume", [self.customer.ids])
        self._assert_error(reply, "odoo.exceptions.AccessError", "Only the credit team pauses")
        self.assertTrue(self.customer.credit_dunning_pause)

    def test_limit_written_over_rpc_the_core_way_is_enforced(self):
        self.authenticate("cc_manager", "cc_manager")
        reply = self._call(
            "res.partner",
            "write",
            [self.customer.ids, {"credit_limit": 650.0, "use_partner_credit_limit": True}],
        )
        self.assertIs(reply.get("result"), True, reply)
        self.assertEqual(self._limit(self.customer), 650.0)
        self._assert_blocked(700.0, limit_text="650.00")
