import json
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.account.models.chart_template import AccountChartTemplate
from odoo.addons.account.tests.common import AccountTestInvoicingCommon

# the chart-template mapping by (get_all, language), for the whole test process (see
# CreditControlCommon._memoized_chart_template_patcher)
_CHART_TEMPLATE_MAPPING = {}
_original_chart_template_mapping = AccountChartTemplate._get_chart_template_mapping


def _memoized_chart_template_mapping(self, get_all=False):
    key = (bool(get_all), self.env.lang)
    if key not in _CHART_TEMPLATE_MAPPING:
        _CHART_TEMPLATE_MAPPING[key] = _original_chart_template_mapping(self, get_all=get_all)
    # a copy per call, as the original builds a new dict per call
    return {code: dict(values) for code, values in _CHART_TEMPLATE_MAPPING[key].items()}


class CreditControlCommon(AccountTestInvoicingCommon):
    """Shared fixture: a customer company with a contact, users of every role, a second company."""

    @classmethod
    def setUpClass(cls):
        # the patch's stop is registered after BaseCase's cleanup that reports patches left
        # active (cleanups run last in, first out), so it stops before that check
        mapping_patcher = cls._memoized_chart_template_patcher()
        mapping_patcher.start()
        try:
            super().setUpClass()
        finally:
            cls.addClassCleanup(mapping_patcher.stop)
        cls.today = fields.Date.today()
        cls.company = cls.company_data["company"]
        cls.currency = cls.company.currency_id
        cls.customer = cls.env["res.partner"].create({"name": "Muster GmbH", "is_company": True})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Erika Muster", "parent_id": cls.customer.id, "type": "contact"}
        )
        cls.sales_user = new_test_user(
            cls.env,
            "cc_sales",
            groups="base.group_partner_manager,sales_team.group_sale_salesman",
            company_id=cls.company.id,
        )
        cls.collector = new_test_user(
            cls.env,
            "cc_collector",
            groups="account.group_account_invoice,credit_control.credit_control_group_user",
            company_id=cls.company.id,
        )
        cls.credit_manager = new_test_user(
            cls.env,
            "cc_manager",
            groups="account.group_account_invoice,credit_control.credit_control_group_manager",
            company_id=cls.company.id,
        )
        cls.immediate = cls.env.ref("account.account_payment_term_immediate")
        cls.term_30 = cls.env.ref("account.account_payment_term_30days")

    @classmethod
    def _memoized_chart_template_patcher(cls):
        """A patch (for the class): Odoo's chart-template mapping once per test process, not
        once per class.

        AccountTestInvoicingCommon gives every class a new company with a chart of accounts;
        finding and loading the chart reads ``account.chart.template``'s mapping of every
        chart of every localisation module (``ir.module.module.account_templates``: imports
        and calls each module's template functions), which a class's fresh cache computes anew
        (measured idle: 0.4 s of a class set-up's 2 s CPU). The mapping depends only on the modules'
        states and the language, which no test changes; the mapping itself is Odoo's own."""
        return patch.object(
            AccountChartTemplate, "_get_chart_template_mapping", _memoized_chart_template_mapping
        )

    @classmethod
    def _invoice(
        cls, amount, partner=None, days_ago=0, term=None, move_type="out_invoice", currency=None, post=True
    ):
        """A customer invoice without taxes, dated ``days_ago`` days back."""
        invoice = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": (partner or cls.customer).id,
                "invoice_date": cls.today - timedelta(days=days_ago),
                "invoice_payment_term_id": (term or cls.immediate).id,
                "currency_id": (currency or cls.currency).id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Goods", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _pay(cls, invoice, amount=None, days_after_invoice=0):
        """Register a payment on ``invoice`` dated ``days_after_invoice`` days after it."""
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "payment_date": invoice.invoice_date + timedelta(days=days_after_invoice),
                    **({"amount": amount} if amount is not None else {}),
                }
            )
        )
        return wizard._create_payments()

    @classmethod
    def _unreconciled_payment(cls, amount, partner=None):
        """An open customer payment (credit on the receivable account, not matched)."""
        receivable = cls.company_data["default_account_receivable"]
        move = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "date": cls.today,
                "journal_id": cls.company_data["default_journal_bank"].id,
                "line_ids": [
                    Command.create(
                        {
                            "account_id": receivable.id,
                            "partner_id": (partner or cls.customer).id,
                            "credit": amount,
                            "name": "Payment",
                        }
                    ),
                    Command.create(
                        {
                            "account_id": cls.company_data["default_journal_bank"].default_account_id.id,
                            "debit": amount,
                            "name": "Payment",
                        }
                    ),
                ],
            }
        )
        move.action_post()
        return move

    def _order(self, amount, partner=None, user=None, **vals):
        """A quotation of one untaxed line of ``amount`` for ``partner`` (the customer), its
        salesperson the sales user; created as ``user`` when given."""
        env = self.env(user=user) if user else self.env
        return env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "user_id": self.sales_user.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "product_uom_qty": 1,
                            "price_unit": amount,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
                **vals,
            }
        )

    def _count_queries(self, func, flush=True):
        """Number of SQL queries ``func()`` runs, counted as ``assertQueryCount`` counts them
        (pending writes flushed before and after). The tests' one query counter besides
        ``assertQueryCount``: fixed budgets use ``assertQueryCount`` (an upper bound), comparisons
        (the same count for 1 and for N records) this."""
        if flush:
            self.env.flush_all()
            self.env.cr.flush()
        before = self.env.cr.sql_log_count
        func()
        if flush:
            self.env.flush_all()
            self.env.cr.flush()
        return self.env.cr.sql_log_count - before

    def _set_limit(self, partner, amount, company=None):
        """The customer's own credit limit, set the way core Odoo sets it."""
        partner.with_company(company or self.company).write(
            {"use_partner_credit_limit": True, "credit_limit": amount}
        )


class ManifestsReadMixin:
    """For HttpCase tests: read every module manifest once in the test thread before a tour
    or JSON-RPC call starts. Parsed first inside a request thread, a manifest sometimes fails
    with "AST constructor recursion depth mismatch" (CPython 3.11.7), which breaks the page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from odoo.http import root

        if "credit_control" not in root.statics:
            raise RuntimeError("credit_control is not on the addons path of the test server")

    def _call_kw_response(self, model, method, args, kwargs=None):
        """POST a JSON-RPC call to /web/dataset/call_kw as an external client would (as the
        user of the session set by ``authenticate``); returns the HTTP response."""
        return self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
                }
            ),
            headers={"Content-Type": "application/json"},
        )

    def _execute_kw(self, model, method, args, kwargs=None):
        """``/jsonrpc`` ``object.execute_kw`` as xmlrpc/jsonrpc clients call Odoo, as the test's
        ``sales_user`` (password "cc_sales"); returns the decoded answer (caches cleared)."""
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "service": "object",
                        "method": "execute_kw",
                        "args": [
                            self.env.cr.dbname,
                            self.sales_user.id,
                            "cc_sales",
                            model,
                            method,
                            args,
                            kwargs or {},
                        ],
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.env.invalidate_all()
        return response.json()
