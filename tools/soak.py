#!/usr/bin/env python3
"""Soak test of credit_control under Odoo's multi-process server (tools/soak.sh).

``setup``: inside Odoo (-c CONF -d DB), creates the data set: a customer near its credit limit
with 20 quotations, customers with overdue invoices for the automatic dunning, broken promises,
an outgoing mail server pointing at the local SMTP sink; every scheduled action is parked
(next call in a year) so that only the scenarios start them.

``drive``: a pure client (JSON-RPC over HTTP, one session per simulated user, psycopg2 for the
checks) against the running server:

1. 20 parallel confirmations of orders of one customer near its limit;
2. the automatic dunning, payment-behaviour refresh and promise check due at once on two cron
   workers, the dunning worker SIGKILLed in the middle, the SMTP sink refusing;
3. the mail outage: the queue fails with the reason, the sink comes back, the failed letters
   are retried, every letter received exactly once;
4. the read replica: the read-only calls are served by the standby (its statement log).

Prints a table (scenario, check, expected, measured, ok) and exits 1 when a check fails.
"""

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta

LIMIT = 10000.0
ORDER_AMOUNT = 700.0
ORDERS = 20
CRON_XMLIDS = ("ir_cron_credit_dunning", "ir_cron_credit_payment_behaviour", "ir_cron_credit_promise")


# ---------------------------------------------------------------------------- set-up (in Odoo)
def setup(args):
    import odoo
    from odoo import SUPERUSER_ID, Command, api

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    odoo.netsvc.init_logger()
    registry = odoo.modules.registry.Registry(args.database)
    customers = args.customers or (10 if args.short else 150)
    batch = args.dunning_batch or (4 if args.short else 50)
    promises = 5 if args.short else 20
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        today = date.today()
        company = env.ref("base.main_company")
        admin = env.ref("base.user_admin")
        admin.write(
            {
                "email": "admin@soak.example",
                "groups_id": [
                    Command.link(env.ref("credit_control.credit_control_group_manager").id),
                    Command.link(env.ref("sales_team.group_sale_manager").id),
                    Command.link(env.ref("account.group_account_manager").id),
                ],
            }
        )
        company.write(
            {
                "email": "credit@soak.example",
                "credit_dunning_start_date": today - timedelta(days=1),
                "credit_dunning_first_run_review": False,
                "credit_promise_grace_days": 0,
            }
        )
        env["res.partner.bank"].create(
            {"acc_number": "DE89370400440532013000", "partner_id": company.partner_id.id}
        )
        base_url = args.url or "http://127.0.0.1:%d" % (args.smtp_port - 10)
        params = env["ir.config_parameter"]
        params.set_param("web.base.url", base_url)
        params.set_param("web.base.url.freeze", "True")
        params.set_param("report.url", base_url)
        params.set_param("mail.catchall.domain", "soak.example")
        env["ir.mail_server"].search([]).unlink()
        env["ir.mail_server"].create(
            {
                "name": "soak sink",
                "smtp_host": "127.0.0.1",
                "smtp_port": args.smtp_port,
                "smtp_encryption": "none",
                "smtp_authentication": "login",
            }
        )
        # every scheduled action parked: only the scenarios make them due; the dunning in small
        # batches, so that the SIGKILL falls between committed batches
        env["ir.cron"].search([]).write({"nextcall": datetime.now() + timedelta(days=365)})
        env.ref("credit_control.ir_cron_credit_dunning").code = "model._cron_dunning(batch_size=%d)" % batch

        # 1. a customer with a limit and 20 quotations of 700 each: 14 fit (9,800), 15 do not
        product = env["product.product"].create(
            {"name": "Soak service", "type": "service", "invoice_policy": "order", "list_price": ORDER_AMOUNT}
        )
        limited = env["res.partner"].create(
            {"name": "Soak Limit GmbH", "is_company": True, "email": "limit@soak.example"}
        )
        limited.write({"credit_limit": LIMIT, "credit_limit_set": True})
        env["sale.order"].create(
            [
                {
                    "partner_id": limited.id,
                    "client_order_ref": "soak-%02d" % i,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "price_unit": ORDER_AMOUNT,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
                for i in range(ORDERS)
            ]
        )

        # 2. customers with an invoice 30 days overdue (dunnable) and customers with a broken
        # promise on an invoice due yesterday (not dunnable yet whatever the order of the crons)
        def invoices(partners, due):
            moves = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": due - timedelta(days=10),
                        "invoice_date_due": due,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Soak delivery",
                                    "quantity": 1,
                                    "price_unit": 500.0,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for partner in partners
                ]
            )
            moves.action_post()
            return moves

        dunned = env["res.partner"].create(
            [
                {
                    "name": "Soak Dunning %03d GmbH" % i,
                    "is_company": True,
                    "email": "dunning%03d@soak.example" % i,
                    "lang": "en_US",
                }
                for i in range(customers)
            ]
        )
        invoices(dunned, today - timedelta(days=30))
        promised = env["res.partner"].create(
            [
                {
                    "name": "Soak Promise %03d GmbH" % i,
                    "is_company": True,
                    "email": "promise%03d@soak.example" % i,
                    "lang": "en_US",
                }
                for i in range(promises)
            ]
        )
        moves = invoices(promised, today - timedelta(days=1))
        env["credit.promise"].create(
            [
                {
                    "partner_id": move.partner_id.id,
                    "move_ids": [Command.set(move.ids)],
                    "amount": 500.0,
                    "date_promised": today,
                    "grace_days": 0,
                }
                for move in moves
            ]
        )
        # promised for yesterday (a promise cannot be recorded in the past: moved back in time)
        env.flush_all()
        cr.execute(
            "UPDATE credit_promise SET date_promised = %s, date_grace_end = %s, date_recorded = %s",
            (today - timedelta(days=1), today - timedelta(days=1), today - timedelta(days=3)),
        )
        env.invalidate_all()
        # mail of the set-up (invoices, promises) out of the way: only the letters are sent
        env["mail.mail"].search([]).unlink()
        cr.commit()
    print("soak set-up: %d dunning customers, %d promises, %d orders" % (customers, promises, ORDERS))
    return 0


# ---------------------------------------------------------------------------- SMTP sink
class Sink:
    """A minimal SMTP server: ``refuse`` answers every connection with 421 (service not
    available); otherwise every message is accepted and kept (Message-Id, recipients)."""

    def __init__(self, port):
        self.refuse = False
        self.messages = []
        self.refused = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                def send(line):
                    self.wfile.write((line + "\r\n").encode())
                    self.wfile.flush()

                if sink.refuse:
                    with sink.lock:
                        sink.refused += 1
                    send("421 soak sink: service not available")
                    return
                send("220 soak sink ESMTP")
                rcpt = []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    cmd = raw.decode(errors="replace").strip()
                    verb = cmd[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        send("250 soak sink")
                    elif verb == "MAIL":
                        rcpt = []
                        send("250 OK")
                    elif verb == "RCPT":
                        rcpt.append(cmd.split(":", 1)[1].strip())
                        send("250 OK")
                    elif verb == "DATA":
                        send("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while True:
                            line = self.rfile.readline()
                            if not line or line in (b".\r\n", b".\n"):
                                break
                            lines.append(line)
                        data = b"".join(lines).decode(errors="replace")
                        match = re.search(r"^Message-Id:\s*(\S+)", data, re.I | re.M)
                        with sink.lock:
                            sink.messages.append((match and match.group(1), tuple(rcpt), data))
                        send("250 OK queued")
                    elif verb == "QUIT":
                        send("221 bye")
                        return
                    else:
                        send("250 OK")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# ---------------------------------------------------------------------------- JSON-RPC client
class RpcError(Exception):
    def __init__(self, error):
        data = error.get("data") or {}
        self.name = data.get("name", "")
        self.message = data.get("message") or error.get("message", "")
        super().__init__("%s: %s" % (self.name, self.message))


class Client:
    """One user session (its own cookie jar), calls through /web/dataset/call_kw as the web
    client does (that route is the one Odoo sends to the replica for read-only methods)."""

    def __init__(self, url, db, login="admin", password="admin", session=None):
        self.url = url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        if session:
            # another client of the same session (its own connection): a login costs seconds
            # of password hashing on a busy machine, a session is what a browser tab shares
            for cookie in session.cookies:
                self.cookies.set_cookie(cookie)
        else:
            self._post("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def _post(self, path, params, timeout=600):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}).encode()
        request = urllib.request.Request(self.url + path, body, {"Content-Type": "application/json"})
        with self.opener.open(request, timeout=timeout) as response:
            reply = json.loads(response.read())
        if reply.get("error"):
            raise RpcError(reply["error"])
        return reply.get("result")  # Odoo leaves out a None result

    def call(self, model, method, *args, **kwargs):
        return self._post(
            "/web/dataset/call_kw/%s/%s" % (model, method),
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


# ---------------------------------------------------------------------------- drive
class Soak:
    def __init__(self, args):
        import psycopg2

        self.args = args
        self.psycopg2 = psycopg2
        self.rows = []
        self.failed = False
        self.db = psycopg2.connect(args.primary_dsn)
        self.db.autocommit = True
        self.sink = Sink(args.smtp_port)

    # helpers
    def client(self):
        if not getattr(self, "_client", None):
            self._client = Client(self.args.url, self.args.database)
        return Client(self.args.url, self.args.database, session=self._client)

    def sql(self, query, params=None):
        with self.db.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    def value(self, query, params=None):
        return self.sql(query, params)[0][0]

    def check(self, scenario, name, expected, measured, ok=None):
        ok = (expected == measured) if ok is None else ok
        self.rows.append((scenario, name, str(expected), str(measured), "ok" if ok else "FAIL"))
        self.failed |= not ok
        print(
            "  %-12s %-58s %s"
            % (scenario, name, "ok" if ok else "FAIL (expected %s, got %s)" % (expected, measured)),
            flush=True,
        )

    def cron_ids(self):
        rows = self.sql(
            "SELECT name, res_id FROM ir_model_data"
            " WHERE module = 'credit_control' AND model = 'ir.cron' AND name IN %s",
            (CRON_XMLIDS,),
        )
        return dict(rows)

    def trigger(self, cron_ids):
        self.sql(
            "UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'UTC') - interval '1 minute'"
            " WHERE id = ANY(%s)",
            (list(cron_ids),),
        )
        self.notify()

    def notify(self):
        conn = self.psycopg2.connect(
            self.args.primary_dsn.replace("dbname=%s" % self.args.database, "dbname=postgres")
        )
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("SELECT pg_notify('cron_trigger', %s)", (self.args.database,))
        conn.close()

    def crons_done(self, cron_ids):
        return self.value(
            "SELECT count(*) FROM ir_cron"
            " WHERE id = ANY(%s) AND nextcall > (now() AT TIME ZONE 'UTC') + interval '1 hour'",
            (list(cron_ids),),
        ) == len(cron_ids)

    def wait_crons(self, cron_ids, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.crons_done(cron_ids):
                return True
            time.sleep(1)
            if int(time.time()) % 15 == 0:
                self.notify()  # a respawned cron worker listens anew: wake it
        return False

    def log_size(self, path):
        return os.path.getsize(path)

    def log_since(self, path, offset):
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    # 1. parallel confirmations
    def confirmations(self):
        orders = self.sql(
            "SELECT o.id FROM sale_order o JOIN res_partner p ON p.id = o.partner_id "
            "WHERE p.name = 'Soak Limit GmbH' ORDER BY o.id"
        )
        order_ids = [row[0] for row in orders]
        first = self.client()
        clients = [Client(self.args.url, self.args.database, session=first) for _i in order_ids]
        barrier = threading.Barrier(len(order_ids))
        results = {}

        def confirm(client, order_id):
            barrier.wait()
            try:
                client.call("sale.order", "action_confirm", [order_id])
                results[order_id] = ("confirmed", "")
            except RpcError as error:
                results[order_id] = (error.name, error.message)
            except Exception as error:  # noqa: BLE001 - an HTTP error is a result too
                results[order_id] = ("transport", repr(error))

        t0 = time.perf_counter()
        threads = [
            threading.Thread(target=confirm, args=pair) for pair in zip(clients, order_ids, strict=False)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - t0
        fit = int(LIMIT // ORDER_AMOUNT)
        confirmed = [oid for oid, (kind, _m) in results.items() if kind == "confirmed"]
        blocked = [
            oid
            for oid, (kind, message) in results.items()
            if kind.endswith("UserError") and "cannot be confirmed (credit control)" in message
        ]
        other = {oid: r for oid, r in results.items() if oid not in confirmed and oid not in blocked}
        scenario = "confirm"
        self.check(
            scenario,
            "orders confirmed (limit %.0f, %d x %.0f)" % (LIMIT, ORDERS, ORDER_AMOUNT),
            fit,
            len(confirmed),
        )
        self.check(scenario, "orders refused with the credit block message", ORDERS - fit, len(blocked))
        self.check(scenario, "other errors (serialisation, transport)", 0, len(other))
        for oid, (kind, message) in other.items():
            print("    order %s: %s %s" % (oid, kind, message[:200]))
        db_confirmed = self.value(
            "SELECT count(*) FROM sale_order WHERE id = ANY(%s) AND state = 'sale'", (order_ids,)
        )
        self.check(scenario, "orders in state sale in the database", fit, db_confirmed)
        db_blocked = self.value(
            "SELECT count(*) FROM sale_order WHERE id = ANY(%s) AND credit_block_state = 'blocked'",
            (order_ids,),
        )
        self.check(scenario, "refused orders marked blocked", ORDERS - fit, db_blocked)
        self.timings = {"confirm_seconds": round(seconds, 2)}

    # 2. concurrent crons, SIGKILL of the dunning worker, SMTP refusing
    def crons(self):
        scenario = "crons"
        crons = self.cron_ids()
        self.sink.refuse = True
        customers = self.value("SELECT count(*) FROM res_partner WHERE name LIKE 'Soak Dunning %%'")
        promises = self.value("SELECT count(*) FROM credit_promise WHERE state = 'open'")
        offset = self.log_size(self.args.server_log)
        t0 = time.perf_counter()
        self.trigger(crons.values())
        # the dunning job starting: SIGKILL its worker a moment later
        killed = None
        pattern = re.compile(
            r"^\S+ \S+ (\d+) INFO \S+ odoo\.addons\.base\.models\.ir_cron: Job '([^']*)' \((\d+)\) starting",
            re.M,
        )
        deadline = time.time() + 180
        while time.time() < deadline and not killed:
            for match in pattern.finditer(self.log_since(self.args.server_log, offset)):
                if int(match.group(3)) == crons["ir_cron_credit_dunning"]:
                    # the first batch committed: kill in the middle of the next one
                    while time.time() < deadline and not self.value(
                        "SELECT count(*) FROM credit_dunning_letter WHERE state = 'done'"
                    ):
                        time.sleep(0.2)
                    time.sleep(self.args.kill_after)
                    os.kill(int(match.group(1)), signal.SIGKILL)
                    killed = (
                        int(match.group(1)),
                        self.value("SELECT count(*) FROM credit_dunning_letter WHERE state = 'done'"),
                    )
                    break
            time.sleep(0.2)
        self.check(scenario, "dunning worker SIGKILLed while running", True, bool(killed))
        if killed:
            print("    killed cron worker %s (%s letters committed at that moment)" % killed)
            self.check(
                scenario,
                "dunning job unfinished at the kill",
                False,
                self.crons_done([crons["ir_cron_credit_dunning"]]),
            )
            self.check(
                scenario,
                "letters committed before the kill (resumed after)",
                "1..%d" % (customers - 1),
                killed[1],
                0 < killed[1] < customers,
            )
        done = self.wait_crons(crons.values(), self.args.cron_timeout)
        self.timings["crons_seconds"] = round(time.perf_counter() - t0, 2)
        self.check(scenario, "the three jobs completed after the restart", True, done)
        self.consistency(scenario, customers, promises)
        # everything due again at once: nothing new (each job's work done once)
        before = self.counts()
        self.trigger(crons.values())
        self.check(
            scenario,
            "the jobs completed a second time",
            True,
            self.wait_crons(crons.values(), self.args.cron_timeout),
        )
        self.check(scenario, "second run: no new letters, tasks, activities, mails", before, self.counts())

    def counts(self):
        return (
            "%d letters, %d tasks, %d activities, %d mails"
            % self.sql(
                "SELECT (SELECT count(*) FROM credit_dunning_letter), (SELECT count(*) FROM credit_task),"
                " (SELECT count(*) FROM mail_activity), (SELECT count(*) FROM mail_mail)"
            )[0]
        )

    def consistency(self, scenario, customers, promises):
        letters = self.value(
            "SELECT count(*) FROM credit_dunning_letter l JOIN res_partner p ON p.id = l.partner_id "
            "WHERE p.name LIKE 'Soak Dunning %%' AND l.state = 'done'"
        )
        self.check(scenario, "validated letters (one per overdue customer)", customers, letters)
        self.check(
            scenario,
            "customers with more than one letter",
            0,
            self.value(
                "SELECT count(*) FROM (SELECT partner_id FROM credit_dunning_letter WHERE state <> 'cancel' "
                "GROUP BY partner_id HAVING count(*) > 1) t"
            ),
        )
        self.check(
            scenario,
            "letters left in a draft or half-validated run",
            0,
            self.value(
                "SELECT count(*) FROM credit_dunning_letter l JOIN credit_dunning_run r ON r.id = l.run_id "
                "WHERE l.state = 'draft' OR r.state = 'draft' OR (l.state = 'done' AND r.state <> 'done')"
            ),
        )
        self.check(
            scenario,
            "invoices with a level raised but no validated letter",
            0,
            self.value(
                "SELECT count(*) FROM account_move m"
                " WHERE m.credit_dunning_level_id IS NOT NULL AND NOT EXISTS ("
                " SELECT 1 FROM credit_dunning_line dl JOIN credit_dunning_letter l ON l.id = dl.letter_id"
                " WHERE dl.move_id = m.id AND l.state = 'done' AND dl.level_id = m.credit_dunning_level_id)"
            ),
        )
        self.check(
            scenario,
            "validated e-mail letters without their queued e-mail",
            0,
            self.value(
                "SELECT count(*) FROM credit_dunning_letter WHERE state = 'done' AND channel_email "
                "AND email_message_id IS NULL"
            ),
        )
        self.check(
            scenario,
            "promises broken",
            promises,
            self.value("SELECT count(*) FROM credit_promise WHERE state = 'broken'"),
        )
        self.check(
            scenario,
            "call tasks of broken promises (one each)",
            promises,
            self.value("SELECT count(*) FROM credit_task WHERE promise_id IS NOT NULL"),
        )
        self.check(
            scenario,
            "duplicate activities (same record, type, summary)",
            0,
            self.value(
                "SELECT count(*) FROM (SELECT 1 FROM mail_activity"
                " GROUP BY res_model, res_id, activity_type_id, "
                "summary, user_id HAVING count(*) > 1) t"
            ),
        )
        # company-dependent field: one JSON value per company
        company = str(self.value("SELECT min(id) FROM res_company"))
        refreshed = self.value(
            "SELECT count(*) FROM res_partner WHERE parent_id IS NULL AND customer_rank > 0 "
            "AND ((credit_behaviour_date->>%s) IS NULL OR (credit_behaviour_date->>%s)::date < CURRENT_DATE)",
            (company, company),
        )
        self.check(scenario, "customers left without today's payment behaviour", 0, refreshed)

    # 3. mail outage
    def mail_outage(self):
        scenario = "smtp"
        client = self.client()
        letters = self.value(
            "SELECT count(*) FROM credit_dunning_letter WHERE state = 'done' AND channel_email"
        )
        self.sink.refuse = True
        client.call("mail.mail", "process_email_queue")
        failed = self.sql(
            "SELECT email_state, email_error FROM credit_dunning_letter"
            " WHERE state = 'done' AND channel_email"
        )
        self.check(scenario, "sink refused connections", True, self.sink.refused > 0)
        self.check(
            scenario, "letters failed during the outage", letters, sum(1 for s, _e in failed if s == "failed")
        )
        self.check(
            scenario,
            "failed letters with the reason",
            letters,
            sum(1 for s, e in failed if s == "failed" and e),
        )
        self.check(scenario, "messages received during the outage", 0, len(self.sink.messages))
        self.sink.refuse = False
        ids = [
            row[0] for row in self.sql("SELECT id FROM credit_dunning_letter WHERE email_state = 'failed'")
        ]
        client.call("credit.dunning.letter", "action_retry_email", ids)
        client.call("mail.mail", "process_email_queue")
        received = len(self.sink.messages)
        self.check(scenario, "messages received after the retry", letters, received)
        self.check(
            scenario,
            "letters sent",
            letters,
            self.value("SELECT count(*) FROM credit_dunning_letter WHERE email_state = 'sent'"),
        )
        # a second retry and queue run: nothing twice
        client.call("credit.dunning.letter", "action_retry_email", ids)
        client.call("mail.mail", "process_email_queue")
        ids_seen = [mid for mid, _r, _d in self.sink.messages]
        self.check(
            scenario, "messages after a second retry (nothing twice)", received, len(self.sink.messages)
        )
        self.check(scenario, "distinct Message-Ids", len(ids_seen), len(set(ids_seen)))
        recipients = [rcpt for _m, rcpts, _d in self.sink.messages for rcpt in rcpts]
        self.check(scenario, "recipients receiving two letters", 0, len(recipients) - len(set(recipients)))

    # 4. read replica
    def replica(self):
        scenario = "replica"
        import psycopg2

        standby = psycopg2.connect(self.args.standby_dsn)
        standby.autocommit = True
        with standby.cursor() as cr:
            cr.execute("SELECT pg_is_in_recovery()")
            self.check(scenario, "standby in recovery (streaming)", True, cr.fetchone()[0])
        standby.close()
        client = self.client()
        calls = [
            ("dashboard get_data", "credit.dashboard", "get_data", [], {}, r"SELECT"),
            (
                "worklist web_search_read",
                "credit.worklist",
                "web_search_read",
                [[]],
                {"specification": {"partner_id": {}}, "limit": 20},
                r"SELECT",
            ),
            (
                "aging web_read_group",
                "credit.aging.report",
                "web_read_group",
                [[]],
                {"fields": ["amount_open:sum"], "groupby": ["partner_id"]},
                r"SELECT",
            ),
        ]
        for label, model, method, args, kwargs, table in calls:
            offset = self.log_size(self.args.standby_log)
            server_offset = self.log_size(self.args.server_log)
            try:
                client.call(model, method, *args, **kwargs)
                error = None
            except RpcError as exc:
                error = str(exc)
            time.sleep(0.3)
            statements = [
                line
                for line in self.log_since(self.args.standby_log, offset).splitlines()
                if "statement:" in line and (" %s " % self.args.database) in line and re.search(table, line)
            ]
            self.check(scenario, "%s: no error" % label, None, error)
            self.check(
                scenario,
                "%s: cursor mode (server log)" % label,
                "ro",
                self.cursor_mode(server_offset, model, method),
            )
            self.check(
                scenario, "%s: statements on the standby" % label, "> 0", len(statements), bool(statements)
            )
        # a write still goes to the primary and is seen on the standby afterwards
        offset = self.log_size(self.args.standby_log)
        server_offset = self.log_size(self.args.server_log)
        partner = self.value("SELECT id FROM res_partner WHERE name = 'Soak Limit GmbH'")
        client.call("res.partner", "write", [partner], {"comment": "soak write"})
        self.check(
            scenario,
            "a write call: cursor mode (server log)",
            "rw",
            self.cursor_mode(server_offset, "res.partner", "write"),
        )
        writes = [
            line
            for line in self.log_since(self.args.standby_log, offset).splitlines()
            if "UPDATE" in line and "res_partner" in line
        ]
        self.check(scenario, "a write call: no statement on the standby", 0, len(writes))

    def cursor_mode(self, offset, model, method):
        """The cursor mode Odoo logged for the request (ro: replica, ro->rw: retried on the
        primary after a write, rw: primary)."""
        time.sleep(0.5)
        path = "/web/dataset/call_kw/%s/%s " % (model, method)
        modes = [
            line.split()[-1]
            for line in self.log_since(self.args.server_log, offset).splitlines()
            if "werkzeug" in line and path in line
        ]
        return modes[-1] if modes else None

    def table(self):
        widths = [
            max(len(row[i]) for row in self.rows + [("scenario", "check", "expected", "measured", "ok")])
            for i in range(5)
        ]
        widths = [min(w, 56) for w in widths]
        line = "  ".join("%-" + str(w) + "s" for w in widths)
        print()
        print(line % ("scenario", "check", "expected", "measured", "ok"))
        print("  ".join("-" * w for w in widths))
        for row in self.rows:
            print(line % tuple(cell[:60] for cell in row))
        print()
        print("timings: %s" % ", ".join("%s %.1f s" % item for item in self.timings.items()))
        failures = sum(1 for row in self.rows if row[4] != "ok")
        print("soak: %d checks, %d failed" % (len(self.rows), failures))

    def run(self):
        self.timings = {}
        for step in (self.confirmations, self.crons, self.mail_outage, self.replica):
            try:
                step()
            except Exception as error:  # noqa: BLE001 - a crashed scenario is a failed check
                self.check(step.__name__, "scenario ran without an exception", None, repr(error)[:200])
        self.table()
        return 1 if self.failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["setup", "drive"])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--short", action="store_true", help="the short variant (make test)")
    parser.add_argument(
        "--customers", type=int, default=0, help="overdue customers (default 20 short, 150 long)"
    )
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--url")
    parser.add_argument("--server-log")
    parser.add_argument("--standby-log")
    parser.add_argument("--standby-dsn")
    parser.add_argument("--primary-dsn")
    parser.add_argument(
        "--dunning-batch", type=int, default=0, help="customers per dunning batch (default 4 short, 50 long)"
    )
    parser.add_argument(
        "--kill-after", type=float, default=0.5, help="seconds after the first committed batch to SIGKILL"
    )
    parser.add_argument("--cron-timeout", type=int, default=600)
    args = parser.parse_args(argv)
    if args.command == "setup":
        return setup(args)
    socket.setdefaulttimeout(900)
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
