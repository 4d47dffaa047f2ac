"""OCA credit control history for the migration bench, made set-based in SQL.

The benchmark ledger has no OCA modules: their tables are made as account_credit_control and
account_financial_risk 18.0 define them (the columns the migration wizard reads), inside the
measured run's savepoint (PostgreSQL rolls the DDL back with it). A company running OCA credit
control monthly: one policy of three levels; each customer's last five overdue invoices were
reminded on the first of the month after their level's delay; one communication per customer,
level and month; every tenth customer has a partial risk limit of 1,000 on unpaid invoices.
"""

DDL = """
CREATE TABLE credit_control_policy (
    id serial PRIMARY KEY, name varchar NOT NULL, company_id int, active bool DEFAULT true);
CREATE TABLE credit_control_policy_level (
    id serial PRIMARY KEY, policy_id int NOT NULL, level int NOT NULL, name jsonb NOT NULL,
    computation_mode varchar NOT NULL, delay_days int NOT NULL, channel varchar NOT NULL,
    custom_text jsonb NOT NULL, custom_text_after_details jsonb);
CREATE TABLE credit_control_communication (
    id serial PRIMARY KEY, partner_id int NOT NULL, policy_level_id int NOT NULL, policy_id int,
    currency_id int NOT NULL, contact_address_id int, report_date date, company_id int NOT NULL);
CREATE TABLE credit_control_line (
    id serial PRIMARY KEY, date date NOT NULL, date_due date NOT NULL, date_sent date,
    state varchar NOT NULL, channel varchar NOT NULL, invoice_id int, partner_id int NOT NULL,
    communication_id int, amount_due numeric, balance_due numeric NOT NULL, move_line_id int NOT NULL,
    currency_id int, company_id int, policy_level_id int NOT NULL, policy_id int, level int);
ALTER TABLE res_company ADD COLUMN credit_policy_id int;
ALTER TABLE res_partner ADD COLUMN risk_invoice_open_limit numeric,
                        ADD COLUMN risk_invoice_unpaid_limit numeric;
"""


def make_oca_history(env, invoices_per_customer=5):
    """Create the OCA tables and history for the current company; returns the counts."""
    cr = env.cr
    company = env.company
    cr.execute(DDL)
    cr.execute(
        "INSERT INTO credit_control_policy (name, company_id) VALUES ('3 times', %s) RETURNING id",
        [company.id],
    )
    [policy] = cr.fetchone()
    cr.execute("UPDATE res_company SET credit_policy_id = %s WHERE id = %s", [policy, company.id])
    cr.execute(
        """
        INSERT INTO credit_control_policy_level
               (policy_id, level, name, computation_mode, delay_days, channel, custom_text)
        VALUES (%(p)s, 1, '{"en_US": "Reminder", "de_DE": "Zahlungserinnerung"}', 'net_days', 10, 'email',
                '{"en_US": "Please pay.", "de_DE": "Bitte zahlen Sie."}'),
               (%(p)s, 2, '{"en_US": "Dunning", "de_DE": "Mahnung"}', 'previous_date', 20, 'email',
                '{"en_US": "Please pay now.", "de_DE": "Bitte zahlen Sie jetzt."}'),
               (%(p)s, 3, '{"en_US": "Last letter", "de_DE": "Letzte Mahnung"}', 'previous_date', 20,
                'letter',
                '{"en_US": "Last notice.", "de_DE": "Letzte Mahnung."}')
        """,
        {"p": policy},
    )
    cr.execute(
        """
        WITH inv AS (
            SELECT m.id, m.partner_id, m.invoice_date_due AS due, m.currency_id, m.company_id,
                   m.amount_total, m.amount_residual,
                   ROW_NUMBER() OVER (PARTITION BY m.commercial_partner_id
                                      ORDER BY m.invoice_date_due DESC, m.id)
                       AS rn
              FROM account_move m
             WHERE m.move_type = 'out_invoice' AND m.state = 'posted' AND m.company_id = %(company)s
               AND m.invoice_date_due < CURRENT_DATE - 40
        ),
        lvl AS (
            SELECT id, level, channel, SUM(delay_days) OVER (ORDER BY level) AS days
              FROM credit_control_policy_level WHERE policy_id = %(policy)s
        )
        INSERT INTO credit_control_line
               (date, date_due, date_sent, state, channel, invoice_id, partner_id, amount_due, balance_due,
                move_line_id, currency_id, company_id, policy_level_id, policy_id, level)
        SELECT d.run_date, inv.due, d.run_date, 'sent', lvl.channel, inv.id, inv.partner_id, inv.amount_total,
               inv.amount_residual,
               (SELECT l.id FROM account_move_line l
                 WHERE l.move_id = inv.id AND l.display_type = 'payment_term' LIMIT 1),
               inv.currency_id, inv.company_id, lvl.id, %(policy)s, lvl.level
          FROM inv
          JOIN lvl ON TRUE
          CROSS JOIN LATERAL (
                SELECT (date_trunc('month', inv.due + lvl.days::int) + interval '1 month')::date AS run_date
          ) d
         WHERE inv.rn <= %(per_customer)s AND d.run_date < CURRENT_DATE
        """,
        {"company": company.id, "policy": policy, "per_customer": invoices_per_customer},
    )
    cr.execute(
        """
        WITH comm AS (
            INSERT INTO credit_control_communication
                   (partner_id, policy_level_id, policy_id, currency_id, report_date, company_id)
            SELECT partner_id, policy_level_id, policy_id, currency_id, date, company_id
              FROM credit_control_line
          GROUP BY partner_id, policy_level_id, policy_id, currency_id, date, company_id
         RETURNING id, partner_id, policy_level_id, currency_id, report_date
        )
        UPDATE credit_control_line l SET communication_id = comm.id
          FROM comm
         WHERE l.partner_id = comm.partner_id AND l.policy_level_id = comm.policy_level_id
           AND l.currency_id = comm.currency_id AND l.date = comm.report_date
        """
    )
    cr.execute(
        """
        UPDATE res_partner SET risk_invoice_unpaid_limit = 1000
         WHERE id IN (SELECT id FROM res_partner WHERE parent_id IS NULL AND customer_rank > 0
                       ORDER BY id) AND id % 10 = 0
        """
    )
    counts = {}
    for table in ("credit_control_line", "credit_control_communication"):
        cr.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed table names
        counts[table] = cr.fetchone()[0]
    cr.execute("SELECT COUNT(DISTINCT partner_id) FROM credit_control_line")
    counts["customers"] = cr.fetchone()[0]
    return counts


def migrate(env):
    """What the wizard's "Take Over" does for the current company (without the UI)."""
    wizard = env["credit.oca.migration"].create({"company_ids": [(6, 0, env.company.ids)]})
    return wizard._migrate(env.company)
