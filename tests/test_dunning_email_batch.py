import contextlib
from unittest.mock import patch

from odoo.tests import new_test_user, tagged

from .dunning_common import DunningCommon


class _Rollback(Exception):
    pass


# fields of the records an e-mail leaves, compared between Odoo's message_post per letter and
# the batch (ids, dates and Message-Ids aside: they differ by nature)
MESSAGE_FIELDS = [
    "author_id",
    "author_guest_id",
    "email_from",
    "reply_to",
    "subject",
    "body",
    "message_type",
    "subtype_id",
    "model",
    "res_id",
    "record_name",
    "record_alias_domain_id",
    "record_company_id",
    "email_layout_xmlid",
    "email_add_signature",
    "is_internal",
    "reply_to_force_new",
    "mail_server_id",
    "partner_ids",
    "attachment_ids",
    "parent_id",
    "tracking_value_ids",
]
MAIL_FIELDS = [
    "state",
    "auto_delete",
    "is_notification",
    "subject",
    "body_html",
    "email_from",
    "reply_to",
    "email_to",
    "email_cc",
    "headers",
    "recipient_ids",
    "attachment_ids",
    "scheduled_date",
    "mail_server_id",
    "failure_type",
]
NOTIFICATION_FIELDS = [
    "res_partner_id",
    "author_id",
    "notification_type",
    "notification_status",
    "is_read",
    "failure_type",
]


@tagged("post_install", "-at_install")
class TestDunningEmailBatch(DunningCommon):
    """The e-mails of a run's letters are posted in one batch (``_post_emails``) that leaves
    what Odoo's message_post of each letter leaves (issue #16)."""

    def _done_run(self, count, prepare=None):
        """A validated run of ``count`` e-mail letters whose e-mails are not queued yet;
        ``prepare(run)`` is called on the proposal."""
        partners = self.env["res.partner"].create(
            [
                {"name": f"Mail Kunde {count}-{i}", "is_company": True, "email": f"m{count}-{i}@example.com"}
                for i in range(count)
            ]
        )
        for partner in partners:
            self._invoice(100.0, partner=partner, days_ago=10)
        run = self._propose(partners=partners)
        if prepare:
            prepare(run)
        with patch.object(type(run), "_queue_emails", lambda this, emails: None):
            run.action_validate()
        self.assertEqual(len(run.letter_ids), count)
        self.assertFalse(run.letter_ids.email_message_id)
        self.assertTrue(all(run.letter_ids.mapped("channel_email")))
        return run

    def _snapshot(self, letters):
        """What the letters' e-mails left, by letter id, ids replaced by comparable values."""

        def values(record, names):
            result = {}
            for name in names:
                value = record[name]
                if hasattr(value, "_name"):
                    value = sorted(value.ids)
                result[name] = value
            return result

        self.env.flush_all()
        self.env.invalidate_all()
        snapshot = {}
        for letter in letters:
            message = letter.email_message_id
            self.assertEqual(len(message), 1)
            mails = message.notification_ids.mail_mail_id.sorted(lambda m: m.recipient_ids.ids)
            snapshot[letter.id] = {
                "message": values(message, MESSAGE_FIELDS),
                "mails": [
                    {
                        **values(mail, MAIL_FIELDS),
                        "references is the Message-Id": mail.references == message.message_id,
                        "notifications": [
                            values(notification, NOTIFICATION_FIELDS)
                            for notification in message.notification_ids.filtered(
                                lambda n, mail=mail: n.mail_mail_id == mail
                            ).sorted(lambda n: n.res_partner_id.id)
                        ],
                    }
                    for mail in mails
                ],
                "inbox": [
                    values(notification, NOTIFICATION_FIELDS)
                    for notification in message.notification_ids.filtered(
                        lambda n: n.notification_type == "inbox"
                    ).sorted(lambda n: n.res_partner_id.id)
                ],
                "followers": sorted(
                    (follower.partner_id.id, tuple(sorted(follower.subtype_ids.ids)))
                    for follower in letter.message_follower_ids
                ),
                "email_state": letter.email_state,
                "messages on the letter": len(letter.message_ids),
            }
        return snapshot

    def _send(self, letters, one_by_one):
        """The snapshot of ``letters._send_email`` by the given path, rolled back."""
        with contextlib.suppress(_Rollback), self.env.cr.savepoint():
            letters._send_email(one_by_one=one_by_one)
            snapshot = self._snapshot(letters)
            raise _Rollback()
        self.env.invalidate_all()
        return snapshot

    def test_batch_leaves_what_message_post_leaves(self):
        contacts = []

        def prepare(run):
            # letter 3: a contact of the customer as recipient
            third = run.letter_ids[2]
            contacts.append(
                self.env["res.partner"].create(
                    {"name": "Buchhaltung", "parent_id": third.partner_id.id, "email": "bh@example.com"}
                )
            )
            third.recipient_id = contacts[0]

        run = self._done_run(3, prepare=prepare)
        first, second, third = run.letter_ids
        contact = contacts[0]
        # letter 1: an internal user (inbox) and a contact (e-mail) follow it, a message before
        collector = new_test_user(
            self.env, "mail_collector", groups="base.group_user", notification_type="inbox"
        )
        watcher = self.env["res.partner"].create({"name": "Watcher", "email": "watcher@example.com"})
        first.message_subscribe(partner_ids=(collector.partner_id | watcher).ids)
        first.message_post(body="Earlier note", message_type="comment", subtype_xmlid="mail.mt_note")
        # letter 2: its recipient follows it (follower group) and has a language of its own
        self.env["res.lang"]._activate_lang("de_DE")
        second.recipient_id.lang = "de_DE"
        second.message_subscribe(partner_ids=second.recipient_id.ids)
        old = self._send(run.letter_ids, one_by_one=True)
        new = self._send(run.letter_ids, one_by_one=False)
        self.assertEqual(new, old)
        # the test covers what it means to: inbox, several mails, the layout, the attachment
        self.assertTrue(old[first.id]["inbox"])
        self.assertEqual(
            sorted(pid for mail in old[first.id]["mails"] for pid in mail["recipient_ids"]),
            sorted((first.recipient_id | watcher).ids),
        )
        self.assertTrue(old[second.id]["mails"][0]["body_html"])
        self.assertEqual(old[third.id]["mails"][0]["recipient_ids"], contact.ids)
        self.assertEqual(old[third.id]["message"]["attachment_ids"], third.attachment_id.ids)
        self.assertEqual(old[first.id]["mails"][0]["state"], "outgoing")
        # the batch path is the one taken by default: all letters in one call
        model = type(self.env["credit.dunning.letter"])
        original, batches = model._post_emails, []

        def post_emails(this, post_values):
            batches.append(this.ids)
            return original(this, post_values)

        with patch.object(model, "_post_emails", post_emails):
            run.letter_ids._send_email()
        self.assertEqual(batches, [run.letter_ids.ids])
        self.assertEqual(run.letter_ids.mapped("email_state"), ["queued"] * 3)

    def test_batch_query_count_does_not_grow(self):
        """Queuing the e-mails of 10 letters runs as many queries as queuing one letter's
        (3 more at most), not ~12 more per letter as message_post per letter did."""
        counts = []
        for count in (1, 10):
            letters = self._done_run(count).letter_ids
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            letters._send_email()
            self.env.flush_all()
            counts.append(self.cr.sql_log_count - before)
            self.assertEqual(len(letters.email_message_id), count)
        one, ten = counts
        self.assertLessEqual(ten - one, 3, f"1 letter: {one} queries, 10 letters: {ten} queries")

    def test_module_overriding_message_post_gets_message_post(self):
        """A module overriding what the batch replaces: each letter through message_post."""
        run = self._done_run(2)
        letters = run.letter_ids
        self.assertEqual(letters._email_batch_blockers(), [])
        model = type(self.env["credit.dunning.letter"])
        calls = []
        original = model.message_post

        def message_post(this, **kwargs):
            calls.append(this.id)
            return original(this, **kwargs)

        with patch.object(model, "message_post", message_post):
            self.assertFalse(letters._email_batch_supported())
            letters._send_email()
        self.assertEqual(sorted(calls), sorted(letters.ids))
        self.assertEqual(letters.mapped("email_state"), ["queued"] * 2)

    def test_bodies_compiled_once_as_odoo_renders_them(self):
        """The e-mails' bodies rendered with their QWeb compiled once per language are what
        Odoo's _render_field renders for each letter, for a collector (not a template editor:
        restricted rendering) as for an administrator."""

        def prepare(run):
            self.env["res.lang"]._activate_lang("de_DE")
            run.letter_ids[1].recipient_id.lang = "de_DE"

        letters = self._done_run(3, prepare=prepare).letter_ids
        self.assertFalse(self.collector.has_group("mail.group_mail_template_editor"))
        qweb_model = type(self.env["ir.qweb"])
        original_compile = qweb_model._compile
        compiled = []

        def compile_(this, template):
            if not isinstance(template, str | int):
                compiled.append(template)
            return original_compile(this, template)

        for user in (self.env.user, self.collector):
            user_letters = letters.with_user(user)
            template = self.template.with_user(user)
            expected = {}
            for letter in user_letters:
                lang = template._render_lang(letter.ids)[letter.id]
                lang_template = template.with_context(lang=lang)
                expected[letter.id] = (
                    lang_template._render_field("subject", letter.ids)[letter.id],
                    lang_template._render_field("body_html", letter.ids, compute_lang=True)[letter.id],
                )
            compiled.clear()
            with patch.object(qweb_model, "_compile", compile_):
                contents = user_letters._render_emails()
            self.assertEqual(contents, expected)
            self.assertEqual(len(compiled), 2, "one compilation per language, not per letter")
        self.assertIn("Mail Kunde 3-1", contents[letters[1].id][1])
        self.assertNotEqual(contents[letters[0].id][1], contents[letters[1].id][1])
