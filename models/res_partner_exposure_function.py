import hashlib

from odoo import models
from odoo.tools import SQL

from .res_partner_exposure import (
    EXPOSURE_FUNCTION_COLUMNS,
    EXPOSURE_FUNCTION_PARAMS,
    EXPOSURE_FUNCTION_PATTERN,
    EXPOSURE_FUNCTION_PREFIX,
)


class ResPartner(models.Model):
    """One customer's exposure statement as a PL/pgSQL function: its plan is kept for the
    database session, so a confirmation does not plan the statement again (see
    ``res_partner_exposure``)."""

    _inherit = "res.partner"

    # --- the statement of one customer as a database function --- #
    def _credit_exposure_function_sql(self):
        """``(name, CREATE FUNCTION statement)`` of the exposure statement as a PL/pgSQL
        function of :data:`EXPOSURE_FUNCTION_PARAMS` and ``lock`` (the lock's update, then the
        statement, in one call). PL/pgSQL keeps the plans of its statements for the database
        session: a check plans the statement once per session instead of at every call (a
        generic plan: the function serves one customer at a time; many customers go through the
        statement itself). The name ends with a hash of the text: code that writes another
        statement (an update, a module overriding a piece) names another function, and until
        that one is made (``init``) the statement is sent as it is."""
        names = {name: SQL("p_%s" % name) for name, _type in EXPOSURE_FUNCTION_PARAMS}
        cr = self.env.cr
        lock = self._credit_exposure_lock_sql(names)
        statement = self._credit_exposure_statement(names, lock=False)
        columns = ", ".join("%s::%s" % (name, type_) for name, type_ in EXPOSURE_FUNCTION_COLUMNS)
        aliases = ", ".join(name for name, _type in EXPOSURE_FUNCTION_COLUMNS)
        # the lock first (a data-modifying WITH must be a statement of its own here); the values
        # left in the texts are constants of the code (trigger names, ...)
        lock_text = cr.mogrify(lock.code, lock.params or None).decode()
        statement_text = cr.mogrify(statement.code, statement.params or None).decode()
        body = f"""
            BEGIN
                IF p_lock THEN
                    {lock_text};
                END IF;
                RETURN QUERY SELECT {columns} FROM ({statement_text}) AS s({aliases});
            END
        """
        signature = ", ".join("p_%s %s" % item for item in EXPOSURE_FUNCTION_PARAMS) + ", p_lock boolean"
        result = ", ".join("r_%s %s" % item for item in EXPOSURE_FUNCTION_COLUMNS)
        name = EXPOSURE_FUNCTION_PREFIX + hashlib.sha256((signature + body).encode()).hexdigest()[:16]
        create = f"""
            CREATE OR REPLACE FUNCTION {name}({signature}) RETURNS TABLE({result})
            LANGUAGE plpgsql VOLATILE
            SET plan_cache_mode = force_generic_plan
            AS $credit_exposure$
            #variable_conflict use_column
            {body}
            $credit_exposure$"""
        return name, create

    def _credit_exposure_function(self):
        """Name of the exposure function of the current code when it is in the database, else
        None; looked up once per registry (``init`` makes it at install and update)."""
        registry = self.env.registry
        cached = registry.__dict__.get("_credit_exposure_function")
        if cached is None:
            name = self._credit_exposure_function_sql()[0]
            exists = self.env.execute_query(SQL("SELECT 1 FROM pg_proc WHERE proname = %s", name))
            cached = registry.__dict__["_credit_exposure_function"] = name if exists else ""
        return cached or None

    def _credit_exposure_function_init(self):
        """Make the exposure function of the current code; drop the ones of older code."""
        name, create = self._credit_exposure_function_sql()
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT p.oid::regprocedure::text FROM pg_proc p
                    WHERE p.proname ~ %s AND p.proname <> %s""",
                EXPOSURE_FUNCTION_PATTERN,
                name,
            )
        )
        for (old,) in cr.fetchall():
            cr.execute(SQL("DROP FUNCTION IF EXISTS %s", SQL(old)))
        cr.execute(SQL(create))
        self.env.registry.__dict__.pop("_credit_exposure_function", None)
