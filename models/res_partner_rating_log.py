import json

from odoo import api, fields, models
from odoo.tools import SQL, json_default
from odoo.tools.mail import generate_tracking_message_id


class ResPartner(models.Model):
    """What a rating change leaves behind: the salesperson's and credit manager's notices (a
    downgrade is a task of the credit team) and the chatter notes with the tracking values of
    the changed fields, written in one batch for the nightly refresh of every customer."""

    _inherit = "res.partner"

    # === BUSINESS METHODS: notices and chatter of a rating change === #
    def _notify_credit_rating_change(self, rating_before):
        """Tell the salesperson and the credit manager that a rating changed (``rating_before``:
        {partner id: rating before}). A downgrade is a task of the credit team instead of the
        credit manager's notice. The notices are scheduled per change and user, one create for
        all the customers with that change (the nightly refresh may rate many at once)."""
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        notices = {}  # (summary, user) -> partner ids
        summaries = {}  # (old, new, lang) -> summary: the same few changes for many customers

        def summary_of(old, new, lang):
            if (old, new, lang) not in summaries:
                summaries[old, new, lang] = self._credit_rating_change_summary(old, new, lang)
            return summaries[old, new, lang]

        for partner in self:
            old, new = rating_before.get(partner.id), partner.credit_rating_id
            if old == new or partner.commercial_partner_id != partner:
                continue
            users = (partner.user_id | partner.credit_manager_id).filtered(lambda u: u.active and not u.share)
            if old and new and new.score_min < old.score_min:
                summary = summary_of(old, new, partner.credit_manager_id.lang)
                # a downgrade is a case for the credit team (credit.task); the salesperson
                # keeps the notice below
                self.env["credit.task"]._create_auto(
                    "review",
                    "rating_downgrade",
                    partner,
                    summary,
                    company=self.env.company,
                    team="credit",
                    date_deadline=fields.Date.context_today(self),
                    priority="1",
                )
                users -= partner.credit_manager_id
            for user in users:
                text = summary_of(old, new, user.lang)
                notices.setdefault((text, user), []).append(partner.id)
        for (summary, user), partner_ids in notices.items():
            self.browse(partner_ids).sudo().activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                summary=summary,
                user_id=user.id,
            )

    def _credit_rating_change_summary(self, old, new, lang=None):
        """The activity summary of a rating change in the recipient's language ``lang`` (rating
        names included), not in the language of whoever changed the rating."""
        env = self.with_context(lang=lang or self.env.lang).env
        return env._(
            "Credit rating changed: %(old)s → %(new)s",
            old=old.with_env(env).display_name if old else env._("none"),
            new=new.with_env(env).display_name if new else env._("none"),
        )

    def _credit_log_tracking(self, fnames, initial_values):
        """Log the changes of the tracked fields ``fnames`` since ``initial_values`` ({partner id:
        {field: value}}) in the chatter, as Odoo's tracking does (a note with tracking values per
        changed partner, the values of ``mail.tracking.value._create_tracking_values``), in one
        batch whatever the number of partners: the first note is created through the ORM (its
        defaults, author, subtype, reply-to), the others are copies of its row for the other
        partners (one INSERT), the tracking values one INSERT (rows as the ORM writes them;
        tested against it). The tracking values of one change (field, old, new) are prepared
        once, not per partner."""
        partners = self.sudo()
        tracked_fields = self.fields_get(fnames, attributes=("string", "type", "selection", "currency_field"))
        order = [fname for fname, _seq in partners._mail_track_order_fields(tracked_fields)]
        tracking_model = self.env["mail.tracking.value"].sudo()
        prepared = {}  # (field, old, new) -> tracking values
        changed = {}
        for partner in partners:
            initial = initial_values[partner.id]
            rows = []
            for fname in order:
                if fname not in initial:
                    continue
                old, new = initial[fname], partner[fname]
                if new == old or (not new and not old):  # as _mail_track
                    continue
                key = (fname, old, new)
                if key not in prepared or tracked_fields[fname]["type"] == "monetary":
                    prepared[key] = tracking_model._create_tracking_values(
                        old, new, fname, tracked_fields[fname], partner
                    )
                rows.append(prepared[key])
            if rows:
                changed[partner.id] = rows
        if not changed:
            return
        partner_ids = list(changed)
        first = self.browse(partner_ids[:1])._message_log_batch({partner_ids[0]: ""})
        message_ids = [first.id, *self._credit_copy_message(first, partner_ids[1:])]
        self._credit_insert_rows(
            tracking_model,
            [
                dict(values, mail_message_id=message_id)
                for message_id, partner_id in zip(message_ids, partner_ids, strict=True)
                for values in changed[partner_id]
            ],
        )
        # written around the ORM: the caches it filled at the first note's create
        self.env["mail.message"].browse(message_ids).invalidate_recordset(["tracking_value_ids"])
        self.browse(partner_ids).invalidate_recordset(
            ["message_ids", "message_needaction", "message_needaction_counter"]
        )

    @api.model
    def _credit_copy_message(self, message, res_ids):
        """Copies of the row of ``message`` (a chatter note just created through the ORM) for the
        records ``res_ids`` of the same model, in one INSERT: every stored column the same but
        the id, ``res_id`` and ``message_id`` (each note its own Message-Id, as the ORM gives
        it: replies are matched by it). Returns the new ids in the order of ``res_ids``."""
        if not res_ids:
            return []
        message.flush_recordset()
        columns = [
            SQL.identifier(fname)
            for fname, field in message._fields.items()
            if field.store and field.column_type and fname not in ("id", "res_id", "message_id")
        ]
        rows = self.env.execute_query(
            SQL(
                """
            INSERT INTO mail_message (%(columns)s, res_id, message_id)
            SELECT %(source)s, r.res_id, r.message_id
              FROM mail_message m,
                   unnest(%(res_ids)s::int[], %(message_ids)s::varchar[]) WITH ORDINALITY
                       AS r(res_id, message_id, n)
             WHERE m.id = %(message_id)s
          ORDER BY r.n
         RETURNING id
                """,
                columns=SQL(", ").join(columns),
                source=SQL(", ").join(SQL("m.%s", column) for column in columns),
                res_ids=list(res_ids),
                message_ids=[generate_tracking_message_id("message-notify") for __ in res_ids],
                message_id=message.id,
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _credit_insert_rows(self, model, vals_list):
        """Insert the records ``vals_list`` of ``model`` (plain stored fields, no default,
        computed field or relation table involved) in one INSERT, with the columns the ORM's
        create writes (the values converted by the fields, creator and dates). Returns the ids."""
        if not vals_list:
            return []
        # the transaction's time as the ORM writes it (to the microsecond)
        uid, now = self.env.uid, self.env.cr.now().isoformat(" ")
        fields_ = model._fields
        converted = {}  # (field, type, value) -> column value: the rows repeat a few values

        def column_value(fname, value):
            key = (fname, type(value), value)  # the type: False == 0 and True == 1 as keys
            try:
                return converted[key]
            except KeyError:
                result = converted[key] = fields_[fname].convert_to_column(value, model)
                return result
            except TypeError:  # a value that is not hashable
                return fields_[fname].convert_to_column(value, model)

        rows = [
            {
                **{fname: column_value(fname, value) for fname, value in vals.items()},
                "create_uid": uid,
                "write_uid": uid,
                "create_date": now,
                "write_date": now,
            }
            for vals in vals_list
        ]
        columns = SQL(", ").join(SQL.identifier(fname) for fname in {key: 1 for row in rows for key in row})
        result = self.env.execute_query(
            SQL(
                """
            INSERT INTO %(table)s (%(columns)s)
            SELECT %(columns)s FROM jsonb_populate_recordset(NULL::%(table)s, %(rows)s::jsonb)
         RETURNING id
                """,
                table=SQL.identifier(model._table),
                columns=columns,
                rows=json.dumps(rows, default=json_default),
            )
        )
        return [row[0] for row in result]
