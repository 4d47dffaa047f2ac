"""Screenshot walk of the three user paths on `make run`'s demo database.

    source /work/wt/briefs/<name>.env; make run &      # the demo server
    .local/venv/bin/python tools/screens.py --out /tmp/shots [--lang de_DE,en_US]
        [--size 1440x900,1280x720] [--only partner] [--port 8069] [--no-pdf]

Logs in as salesperson (sales/sales), collector (credit/credit on the collector screens) and
credit manager (credit/credit), sets each user's language through JSON-RPC before the walk,
drives a headless chromium through the DevTools protocol (one tab, the session cookie set) and
writes one PNG per screen, language and window size: <out>/<lang>/<size>/<path>-<screen>.png.
PDFs (statement, credit report, dunning letter, problem cases, payment plan, court dunning data
sheet, factored invoice) are fetched with the same session and every page is rendered with
`pdftoppm -png -r 60`.

Only for looking at the screens: it changes nothing but the users' language (and what a screen
step clicks, e.g. the block dialog of a demo order is cancelled, not confirmed). The newer
capabilities (insurance, factoring, court dunning, bureau import, prediction, write-off) are
walked on the records tools/demo_setup.py made; the bureau import result imports the demo's
sample file again (its draft credit checks are deleted after the walk).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import requests
import websocket

DB = "credit_demo"
USERS = {"sales": "sales", "credit": "credit", "admin": "admin", "kunde": "kunde"}


class Rpc:
    def __init__(self, base, login, password, db=DB):
        self.base = base
        self.session = requests.Session()
        res = self._post("/web/session/authenticate", {"db": db, "login": login, "password": password})
        self.uid = res["uid"]
        # as the web client does: the user's context (language) with every call
        self.context = res.get("user_context") or {}

    def _post(self, path, params):
        resp = self.session.post(
            self.base + path, json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=120
        )
        resp.raise_for_status()
        data = resp.json()
        if data.get("error"):
            raise RuntimeError(json.dumps(data["error"])[:2000])
        return data["result"]

    def call(self, model, method, *args, **kwargs):
        kwargs.setdefault("context", dict(self.context))
        return self._post(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    @property
    def cookie(self):
        return self.session.cookies.get("session_id")


class Browser:
    """One headless chromium tab driven through the DevTools protocol."""

    def __init__(self, port=None, lang="en_US"):
        # a free DevTools port: several walks (other checkouts, other users) may run at once
        port = port or _free_port()
        # the browser's own language, as a user of that language has it: the date inputs of the
        # portal read 04.12.2026 in German, not 12/04/2026 (on Linux chromium takes its UI
        # language from LANGUAGE, not from --lang)
        locale = lang.replace("_", "-")
        env = dict(os.environ, LANGUAGE=lang, LANG=f"{lang}.UTF-8")
        self.profile = tempfile.mkdtemp(prefix="cc-screens-")
        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        self.proc = subprocess.Popen(
            [
                exe,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--lang={locale}",
                f"--accept-lang={locale}",
                "about:blank",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _i in range(100):
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                pages = [t for t in targets if t["type"] == "page"]
                if pages:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("chromium did not start")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=120)
        self.msg_id = 0
        self.send("Page.enable")
        self.send("Network.enable")
        self.send("Runtime.enable")

    def send(self, method, **params):
        self.msg_id += 1
        self.ws.send(json.dumps({"id": self.msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        res = self.send("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        return res.get("result", {}).get("value")

    def set_session(self, base, cookie):
        self.send("Network.clearBrowserCookies")
        self.send("Network.setCookie", name="session_id", value=cookie, url=base, path="/")

    def size(self, width, height):
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def wait_idle(self, timeout=30):
        """Wait until the web client shows a view and no RPC is pending."""
        end = time.time() + timeout
        stable = 0
        while time.time() < end:
            ready = self.eval(
                "document.readyState === 'complete' && !!document.querySelector("
                "'.o_action_manager > *, .o_web_client .o_dialog') && "
                "!document.querySelector('.o_loading_indicator, .o_blockUI, .o_loading')"
            )
            stable = stable + 1 if ready else 0
            if stable >= 3:
                return True
            time.sleep(0.3)
        return False

    def goto(self, url):
        self.send("Page.navigate", url=url)
        time.sleep(0.6)
        self.wait_idle()
        time.sleep(0.5)

    def click(self, selector, text=None):
        """Click the first element matching selector (and containing text, if given)."""
        found = self.eval(
            "(() => { const els = [...document.querySelectorAll(%s)].filter(e => %s);"
            " if (!els.length) return false; els[0].click(); return true; })()"
            % (json.dumps(selector), f"e.textContent.includes({json.dumps(text)})" if text else "true")
        )
        time.sleep(0.8)
        self.wait_idle()
        time.sleep(0.6)
        return found

    def run(self, expr):
        """Evaluate ``expr`` in the page (e.g. open a wizard through the web client's action
        service) and wait until the client is idle again."""
        self.eval(expr)
        time.sleep(0.8)
        self.wait_idle()
        time.sleep(0.6)

    def screenshot(self, path, width, height, full=True):
        """The window as the user sees it; when the view scrolls, also the whole view
        (``-full.png``: the window made as tall as the content)."""
        data = self.send("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(data))
        extra = self.eval(
            "(() => { const els = [...document.querySelectorAll("
            "'.o_content, .modal-body, .o_action_manager > div')];"
            " return Math.max(0, ...els.map(e => e.scrollHeight - e.clientHeight)); })()"
        )
        if full and extra and extra > 20:
            self.size(width, min(height + extra, 6000))
            time.sleep(0.8)
            data = self.send("Page.captureScreenshot", format="png")["data"]
            with open(path[:-4] + "-full.png", "wb") as fh:
                fh.write(base64.b64decode(data))
            self.size(width, height)
            time.sleep(0.3)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)


MARK = "SCREENS"


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_scenario(base):
    """Records the walk needs that the demo lacks, made by the users themselves through
    JSON-RPC (once: the orders carry the customer reference SCREENS): two blocked quotations
    of the salesperson (one with a release request, i.e. a release task), a promise to pay, a
    dispute, a payment plan and a dunning run of the collector, a rating change of the credit
    manager."""
    admin = Rpc(base, "admin", "admin")
    if admin.call("sale.order", "search_count", [("client_order_ref", "=", MARK)]):
        return
    sales, credit = Rpc(base, "sales", "sales"), Rpc(base, "credit", "credit")
    partners = admin.call(
        "res.partner",
        "search_read",
        [("parent_id", "=", False), ("customer_rank", ">", 0)],
        fields=["credit_usage", "credit_has_limit", "name", "user_id"],
    )
    # (use_partner_credit_limit is not stored: not searchable, the server logged an ERROR)
    partners = [p for p in partners if p["credit_has_limit"]] or partners
    over = sorted(partners, key=lambda p: -p["credit_usage"])[0]
    sales_uid = sales.uid
    product = admin.call("product.product", "search", [("sale_ok", "=", True)], limit=1)[0]
    for request in (True, False):
        order = sales.call(
            "sale.order",
            "create",
            {
                "partner_id": over["id"],
                "user_id": sales_uid,
                "client_order_ref": MARK,
                "order_line": [(0, 0, {"product_id": product, "product_uom_qty": 10, "price_unit": 2500.0})],
            },
        )
        action = sales.call("sale.order", "action_credit_confirm", [order])
        print("order", order, "->", action.get("res_model"), file=sys.stderr)
        if request:
            wizard = sales.call(
                "credit.order.block",
                "create",
                {"order_id": order, "note": "Langjähriger Kunde, zahlt zuverlässig"},
            )
            sales.call("credit.order.block", "action_request_release", [wizard])
    # a third quotation whose release the credit manager refuses (the salesperson's activity)
    _refused_order(admin, sales, credit, over["id"], product)
    # open invoices of the most overdue customer
    moves = admin.call(
        "account.move",
        "search_read",
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ],
        fields=["commercial_partner_id", "amount_residual"],
        order="invoice_date_due",
    )
    by_partner = {}
    for move in moves:
        by_partner.setdefault(move["commercial_partner_id"][0], []).append(move)
    partner_ids = sorted(by_partner, key=lambda pid: -sum(m["amount_residual"] for m in by_partner[pid]))
    import datetime

    today = datetime.date.today()
    first = by_partner[partner_ids[0]]
    second = by_partner[partner_ids[1]] if len(partner_ids) > 1 else first
    credit.call(
        "credit.promise",
        "create",
        {
            "partner_id": partner_ids[0],
            "move_ids": [(6, 0, [first[0]["id"]])],
            "amount": first[0]["amount_residual"],
            "date_promised": str(today + datetime.timedelta(days=7)),
        },
    )
    credit.call(
        "credit.dispute",
        "create",
        {
            "partner_id": partner_ids[1] if len(partner_ids) > 1 else partner_ids[0],
            "move_ids": [(6, 0, [second[0]["id"]])],
            "amount": round(second[0]["amount_residual"] / 4, 2),
            "reason": "other",
            "description": "Teillieferung beschädigt",
        },
    )
    plan = credit.call(
        "credit.payment.plan",
        "create",
        {
            "partner_id": partner_ids[0],
            "move_ids": [(6, 0, [m["id"] for m in first])],
            "amount_total": sum(m["amount_residual"] for m in first),
            "instalment_count": 3,
            "date_first": str(today + datetime.timedelta(days=14)),
        },
    )
    credit.call("credit.payment.plan", "action_generate_lines", [plan])
    wizard = credit.call("credit.dunning.run.create", "create", {})
    credit.call("credit.dunning.run.create", "action_create_run", [wizard])
    # a rating change (the credit report's history)
    ratings = admin.call("credit.rating", "search_read", [], fields=["name"], order="score_min desc")
    if len(ratings) > 2:
        credit.call("res.partner", "write", [over["id"]], {"credit_rating_id": ratings[-2]["id"]})


def _refused_order(admin, sales, credit, partner_id, product):
    order = sales.call(
        "sale.order",
        "create",
        {
            "partner_id": partner_id,
            "user_id": sales.uid,
            "client_order_ref": MARK + "-REFUSED",
            "order_line": [(0, 0, {"product_id": product, "product_uom_qty": 4, "price_unit": 2500.0})],
        },
    )
    sales.call("sale.order", "action_credit_confirm", [order])
    wizard = sales.call(
        "credit.order.block", "create", {"order_id": order, "note": "Großauftrag, Anzahlung möglich"}
    )
    sales.call("credit.order.block", "action_request_release", [wizard])
    task = credit.call("credit.task", "search", [("order_id", "=", order)])[0]
    context = dict(credit.context, **credit.call("credit.task", "action_refuse_release", [task])["context"])
    wizard = credit.call(
        "credit.order.release",
        "create",
        {"reason": "Zwei Rechnungen seit 45 Tagen überfällig; erst nach Zahlung"},
        context=context,
    )
    credit.call("credit.order.release", "action_apply", [wizard], context=context)
    return order


def demo_ids(admin):
    """Record ids the walk opens, read once as administrator."""

    def first(model, domain, order=None):
        ids = (
            admin.call(model, "search", domain, limit=1, order=order)
            if order
            else admin.call(model, "search", domain, limit=1)
        )
        return ids[0] if ids else None

    ids = {}
    # the customer over its limit (usage bar above 100 %), else any customer with a limit
    partners = admin.call(
        "res.partner",
        "search_read",
        [("parent_id", "=", False), ("customer_rank", ">", 0)],
        fields=["credit_usage", "credit_has_limit", "credit_overdue_amount", "name"],
    )
    over = sorted((p for p in partners if p["credit_has_limit"]), key=lambda p: -p["credit_usage"])
    ids["partner_over"] = over[0]["id"] if over else partners[0]["id"]
    overdue = sorted(partners, key=lambda p: -p["credit_overdue_amount"])
    ids["partner_overdue"] = overdue[0]["id"]
    ids["order_blocked"] = first(
        "sale.order", [("credit_block_state", "=", "blocked"), ("client_order_ref", "!=", MARK + "-REFUSED")]
    )
    ids["order_refused"] = first("sale.order", [("client_order_ref", "=", MARK + "-REFUSED")])
    ids["order_draft"] = first("sale.order", [("state", "in", ("draft", "sent"))])
    # a release request still waiting (its release, override and refuse buttons), else any
    ids["release_task"] = first(
        "credit.task", [("task_type", "=", "release_request"), ("stage", "!=", "done")]
    ) or first("credit.task", [("task_type", "=", "release_request")])
    ids["task"] = first("credit.task", [])
    ids["limit_request"] = first("credit.limit.request", [])
    ids["dunning_run"] = first("credit.dunning.run", [])
    ids["dunning_letter"] = first("credit.dunning.letter", [])
    ids["promise"] = first("credit.promise", [])
    ids["dispute"] = first("credit.dispute", [])
    ids["payment_plan"] = first("credit.payment.plan", [])
    ids["decision"] = first("credit.decision", [])
    ids["problem_cases"] = ",".join(str(i) for i in admin.call("credit.problem.case", "search", []))
    # the newer capabilities (tools/demo_setup.py demo_features)
    ids["policy"] = first("credit.insurance.policy", [])
    ids["insurance_task"] = first("credit.task", [("task_type", "=", "insurance")])
    ids["factoring_contract"] = first("credit.factoring.contract", [])
    ids["factored_invoice"] = first("account.move", [("credit_factoring_state", "=", "sold")])
    ids["legal_case"] = first("credit.legal.case", [])
    ids["payment_model"] = first("credit.payment.model", [])
    ids["predicted_invoice"] = first(
        "account.move",
        [("credit_prediction_source", "!=", False), ("invoice_date_due", ">=", str(_today()))],
        order="invoice_date_due",
    )
    ids["bureau_preset"] = first(
        "ir.model.data", [("module", "=", "credit_control"), ("name", "=", BUREAU_PRESET)]
    )
    if ids["bureau_preset"]:
        ids["bureau_preset"] = admin.call("ir.model.data", "read", [ids["bureau_preset"]], ["res_id"])[0][
            "res_id"
        ]
    ids["bureau_check"] = first("credit.check", [("bureau_provider_id", "!=", False)])
    return ids


def _today():
    import datetime

    return datetime.date.today()


BUREAU_PRESET = "credit_bureau_provider_index_100_600"
BUREAU_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", "credit_bureau_sample.csv"
)


def _bureau_import_js(ids):
    """The import wizard as the menu opens it, with the preset and the demo's sample file chosen."""
    with open(BUREAU_FILE, "rb") as fh:
        data = base64.b64encode(fh.read()).decode()
    context = {
        "default_provider_id": ids["bureau_preset"],
        "default_file": data,
        "default_filename": os.path.basename(BUREAU_FILE),
    }
    return (
        "odoo.__WOWL_DEBUG__.root.env.services.action.doAction("
        "'credit_control.credit_bureau_import_action', {additionalContext: %s})" % json.dumps(context)
    )


# (path, screen, url or (url, steps)); {ids} formatted from demo_ids;
# steps: ("click", css, text) or ("js", expression)
def screens(ids):
    act = "/odoo/action-credit_control."
    sales = [
        ("sales", "orders", "/odoo/action-sale.action_quotations_with_onboarding"),
        (
            "sales",
            "order-blocked",
            f"/odoo/action-sale.action_quotations_with_onboarding/{ids['order_blocked']}",
        ),
        (
            "sales",
            "block-dialog",
            (
                f"/odoo/action-sale.action_quotations_with_onboarding/{ids['order_blocked']}",
                [("click", "button[name=action_open_credit_block_dialog]")],
            ),
        ),
        (
            "sales",
            "order-refused",
            f"/odoo/action-sale.action_quotations_with_onboarding/{ids['order_refused']}",
        ),
        (
            "sales",
            "customer-credit-tab",
            (
                f"/odoo/action-account.res_partner_action_customer/{ids['partner_over']}",
                [("click", "a.nav-link", "Credit"), ("click", "a.nav-link", "Kredit")],
            ),
        ),
        ("sales", "credit-tasks", "/odoo/action-credit_control.credit_task_action_my"),
        ("sales", "limit-requests", "/odoo/action-credit_control.credit_limit_request_action_my"),
        (
            "sales",
            "limit-request-form",
            f"/odoo/action-credit_control.credit_limit_request_action_my/{ids['limit_request']}",
        ),
        ("sales", "disputes", "/odoo/action-credit_control.credit_dispute_action"),
    ]
    collector = [
        ("collector", "dashboard", act + "credit_dashboard_action"),
        ("collector", "worklist", act + "credit_worklist_action"),
        ("collector", "profiles", act + "res_partner_action_credit"),
        (
            "collector",
            "profile-credit-tab",
            (
                act + f"res_partner_action_credit/{ids['partner_overdue']}",
                [("click", "a.nav-link", "Credit"), ("click", "a.nav-link", "Kredit")],
            ),
        ),
        ("collector", "promises", act + "credit_promise_action"),
        ("collector", "promise-form", act + f"credit_promise_action/{ids['promise']}"),
        ("collector", "disputes", act + "credit_dispute_action"),
        ("collector", "dispute-form", act + f"credit_dispute_action/{ids['dispute']}"),
        ("collector", "payment-plans", act + "credit_payment_plan_action"),
        ("collector", "payment-plan-form", act + f"credit_payment_plan_action/{ids['payment_plan']}"),
        ("collector", "dunning-runs", act + "credit_dunning_run_action"),
        ("collector", "dunning-run-form", act + f"credit_dunning_run_action/{ids['dunning_run']}"),
        ("collector", "dunning-letters", act + "credit_dunning_letter_action"),
        ("collector", "dunning-letter-form", act + f"credit_dunning_letter_action/{ids['dunning_letter']}"),
        ("collector", "escalation", act + "credit_partner_escalation_action"),
        ("collector", "aging", act + "credit_aging_report_action"),
        ("collector", "tasks", act + "credit_task_action_my"),
        # the newer capabilities
        ("collector", "insurance-watch", act + "credit_insurance_watch_action"),
        ("collector", "insurance-task", act + f"credit_task_action_all/{ids['insurance_task']}"),
        ("collector", "insurance-notifications", act + "credit_insurance_notification_action"),
        ("collector", "legal-cases", act + "credit_legal_case_action"),
        ("collector", "legal-case-form", act + f"credit_legal_case_action/{ids['legal_case']}"),
        (
            "collector",
            "invoice-prediction-tab",
            (
                f"/odoo/action-account.action_move_out_invoice_type/{ids['predicted_invoice']}",
                [("click", "a.nav-link", "Payment Prediction"), ("click", "a.nav-link", "Zahlungsprognose")],
            ),
        ),
        (
            "collector",
            "worklist-prediction",
            (act + "credit_worklist_action", [("click", ".o_data_row .o_data_cell")]),
        ),
    ]
    manager = [
        ("manager", "blocked-orders", act + "sale_order_action_credit_blocked"),
        ("manager", "credit-team-tasks", act + "credit_task_action_credit"),
        ("manager", "release-task", act + f"credit_task_action_all/{ids['release_task'] or ids['task']}"),
        ("manager", "limit-requests", act + "credit_limit_request_action"),
        ("manager", "limit-request-form", act + f"credit_limit_request_action/{ids['limit_request']}"),
        ("manager", "problem-cases", act + "credit_problem_case_action"),
        ("manager", "kpi-months", act + "credit_kpi_month_action"),
        ("manager", "decisions", act + "credit_decision_action"),
        ("manager", "collection-targets", act + "credit_collection_target_action"),
        ("manager", "ratings", act + "credit_rating_action"),
        ("manager", "dunning-levels", act + "credit_dunning_level_action"),
        ("manager", "checks", act + "credit_check_action"),
        # the newer capabilities
        ("manager", "insurance-policies", act + "credit_insurance_policy_action"),
        ("manager", "insurance-policy-form", act + f"credit_insurance_policy_action/{ids['policy']}"),
        ("manager", "factoring-contracts", act + "credit_factoring_contract_action"),
        (
            "manager",
            "factoring-contract-form",
            act + f"credit_factoring_contract_action/{ids['factoring_contract']}",
        ),
        (
            "manager",
            "factored-invoice",
            f"/odoo/action-account.action_move_out_invoice_type/{ids['factored_invoice']}",
        ),
        ("manager", "bureau-providers", act + "credit_bureau_provider_action"),
        ("manager", "bureau-provider-form", act + f"credit_bureau_provider_action/{ids['bureau_preset']}"),
        ("manager", "bureau-check-form", act + f"credit_check_action/{ids['bureau_check']}"),
        (
            "manager",
            "bureau-import",
            (act + "credit_check_action", [("js", _bureau_import_js(ids))]),
        ),
        (
            "manager",
            "bureau-import-result",
            (
                act + "credit_check_action",
                [("js", _bureau_import_js(ids)), ("click", ".modal-footer button[name=action_import]")],
            ),
        ),
        ("manager", "prediction-models", act + "credit_payment_model_action"),
        ("manager", "prediction-model-form", act + f"credit_payment_model_action/{ids['payment_model']}"),
        ("manager", "legal-courts", act + "credit_legal_court_action"),
        ("manager", "claim-catalogue", act + "credit_legal_claim_type_action"),
        ("manager", "write-offs", act + "credit_write_off_entry_action"),
    ]
    # the settings are the administrator's (the Credit Manager has no Settings menu)
    admin = [("admin", "settings", "/odoo/action-credit_control.credit_control_config_settings_action")]
    # the customer's portal page (demo portal user "kunde" of Fischer Druck); try --size 390x844
    customer = [
        ("customer", "portal-home", "/my"),
        ("customer", "portal-account", "/my/credit"),
    ]
    return sales + collector + manager + admin + customer


PDFS = [
    # (name, report xml id, model, ids key)
    ("statement", "credit_control.credit_statement_report_action", "res.partner", "partner_overdue"),
    ("credit-report", "credit_control.credit_partner_report_action", "res.partner", "partner_over"),
    (
        "dunning-letter",
        "credit_control.credit_dunning_letter_report_action",
        "credit.dunning.letter",
        "dunning_letter",
    ),
    (
        "problem-cases",
        "credit_control.credit_problem_case_report_action",
        "credit.problem.case",
        "problem_cases",
    ),
    (
        "payment-plan",
        "credit_control.credit_payment_plan_report_action",
        "credit.payment.plan",
        "payment_plan",
    ),
    ("legal-case", "credit_control.credit_legal_case_report_action", "credit.legal.case", "legal_case"),
    ("factored-invoice", "account.account_invoices", "account.move", "factored_invoice"),
]

PATH_USER = {
    "sales": "sales",
    "collector": "credit",
    "manager": "credit",
    "admin": "admin",
    "customer": "kunde",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HTTP_PORT", 8069)))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, ".local", "screens"))
    parser.add_argument("--lang", default="de_DE,en_US")
    parser.add_argument("--size", default="1440x900,1280x720")
    parser.add_argument("--only", default="", help="substrings of '<path>-<screen>', comma-separated")
    parser.add_argument("--no-pdf", action="store_true")
    parser.add_argument("--no-screens", action="store_true")
    args = parser.parse_args()
    missing = [tool for tool in ("pdftoppm", "pdftotext") if not args.no_pdf and not shutil.which(tool)]
    if missing:
        parser.error(
            "%s not found: install poppler-utils (apt-get install poppler-utils) or pass --no-pdf"
            % ", ".join(missing)
        )
    base = f"http://127.0.0.1:{args.port}"
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(1))  # kill <pid>: chromium is closed too
    admin = Rpc(base, "admin", "admin")
    user_ids = {login: admin.call("res.users", "search", [("login", "=", login)])[0] for login in USERS}
    # the records of the scenario are made in the walk's first language: texts stored when they
    # are made (the block reason of an order, chatter notes, activity summaries) are written in
    # the language of the user who makes them
    admin.call("res.users", "write", list(user_ids.values()), {"lang": args.lang.split(",")[0]})
    setup_scenario(base)
    ids = demo_ids(admin)
    print("records:", ids, file=sys.stderr)
    browser = None
    # the bureau import screens import the sample file again: their checks are removed after the walk
    last_check = (admin.call("credit.check", "search", [], order="id desc", limit=1) or [0])[0]
    try:
        for lang in args.lang.split(","):
            admin.call("res.users", "write", list(user_ids.values()), {"lang": lang})
            sessions = {login: Rpc(base, login, pw) for login, pw in USERS.items()}
            if not args.no_pdf:
                _pdfs(sessions["credit"], admin, ids, os.path.join(args.out, lang, "pdf"), args.only)
            if args.no_screens:
                continue
            # one browser per language (its locale is fixed at its start)
            if browser:
                browser.close()
            browser = Browser(lang=lang)
            for size in args.size.split(","):
                width, height = (int(x) for x in size.split("x"))
                browser.size(width, height)
                out = os.path.join(args.out, lang, size)
                os.makedirs(out, exist_ok=True)
                current = None
                for path, name, target in screens(ids):
                    if args.only and not any(part in f"{path}-{name}" for part in args.only.split(",")):
                        continue
                    login = PATH_USER[path]
                    if login != current:
                        browser.set_session(base, sessions[login].cookie)
                        current = login
                    url, steps = (target, []) if isinstance(target, str) else target
                    browser.goto(base + url)
                    for step in steps:
                        if step[0] == "click":
                            browser.click(step[1], step[2] if len(step) > 2 else None)
                        elif step[0] == "js":
                            browser.run(step[1])
                    file = os.path.join(out, f"{path}-{name}.png")
                    # the whole view once per language (at the first size), the window at every size
                    browser.screenshot(file, width, height, full=size == args.size.split(",")[0])
                    print(file, file=sys.stderr)
    finally:
        if browser:
            browser.close()
        walked = admin.call(
            "credit.check",
            "search",
            [
                ("id", ">", last_check),
                ("bureau_provider_id", "=", ids["bureau_preset"]),
                ("state", "=", "draft"),
            ],
        )
        if walked:
            admin.call("credit.check", "unlink", walked)


def _pdfs(rpc, admin, ids, out, only):
    os.makedirs(out, exist_ok=True)
    for name, xmlid, _model, key in PDFS:
        if only and not any(part in f"pdf-{name}" for part in only.split(",")):
            continue
        if not ids.get(key):
            continue
        report_name = _report_name(admin, xmlid) or xmlid
        resp = rpc.session.get(f"{rpc.base}/report/pdf/{report_name}/{ids[key]}", timeout=300)
        path = os.path.join(out, f"{name}.pdf")
        if resp.status_code != 200 or not resp.content.startswith(b"%PDF"):
            print(f"PDF {name}: HTTP {resp.status_code} ({report_name})", file=sys.stderr)
            continue
        with open(path, "wb") as fh:
            fh.write(resp.content)
        # every page (a letter's second page repeats the table header): <name>-1.png, <name>-2.png
        subprocess.run(["pdftoppm", "-png", "-r", "60", path, path[:-4]], check=True)
        text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout
        pages = text.count("\f") or 1
        print(f"{path}: {pages} page(s), text layer {len(text.split())} words", file=sys.stderr)


def _report_name(rpc, xmlid):
    module, name = xmlid.split(".")
    rows = rpc.call(
        "ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], fields=["res_id"]
    )
    if not rows:
        return None
    reports = rpc.call("ir.actions.report", "read", [rows[0]["res_id"]], ["report_name"])
    return reports[0]["report_name"] if reports else None


if __name__ == "__main__":
    main()
