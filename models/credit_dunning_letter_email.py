"""Dunning letter: its e-mail, rendered by the level's template and queued (all letters of a
run together: one batch doing what ``message_post`` does for each letter)."""

import logging
from collections import defaultdict

import lxml.html
from markupsafe import Markup, escape

from odoo import api, models
from odoo.tools import clean_context, safe_eval, split_every

from .account_move import DUNNING_WRITE

_logger = logging.getLogger(__name__)

# the methods of mail.thread the batch (``_post_emails``) does in its own way, and the modules
# whose versions of them it follows; a module overriding one of them otherwise gets Odoo's
# message_post per letter (``_send_email``)
_MAIL_THREAD = "odoo.addons.mail.models.mail_thread"
BATCH_REPLACES = {
    # rating's and sms's versions only act on arguments the batch never has (a rating, an SMS)
    "message_post": {
        _MAIL_THREAD,
        "odoo.addons.rating.models.mail_thread",
        "odoo.addons.sms.models.mail_thread",
    },
    "_message_compute_parent_id": {_MAIL_THREAD},
    "_notify_thread": {_MAIL_THREAD, "odoo.addons.sms.models.mail_thread"},
    "_notify_get_recipients": {_MAIL_THREAD},
    "_notify_thread_by_email": {_MAIL_THREAD},
}


class CreditDunningLetter(models.Model):
    _inherit = "credit.dunning.letter"

    # === BUSINESS METHODS: e-mail === #
    def _send_email(self, retry=False, contents=None, one_by_one=False):
        """Queue the e-mail of each validated letter with its PDF attached (rendered by the
        level's template, in the recipient's language). Idempotent: a letter that already has
        its e-mail is skipped, unless ``retry`` and that e-mail failed. ``contents``: subject
        and body per letter id already rendered (``_render_emails``), else rendered here.
        All letters in one batch (``_post_emails``) leaving what Odoo's ``message_post`` of
        each leaves; ``one_by_one`` (or a module overriding what the batch replaces): through
        ``message_post`` per letter."""
        letters = self.with_context(credit_dunning_write=DUNNING_WRITE).filtered(
            lambda letter: letter.state == "done"
            and (not letter.email_message_id or (retry and letter.email_state == "failed"))
        )
        contents = dict(contents or {})
        missing = letters.filtered(lambda letter: letter.id not in contents)
        if missing:
            contents.update(missing._render_emails())
        letters = letters.filtered(lambda letter: letter.id in contents)
        if not letters:
            return
        # what message_post computes per message, computed once for all letters: the author,
        # the thread values and the author following the letters (so that they get answers)
        author_id, email_from = letters._message_compute_author(None, None, raise_on_email=True)
        alias_domains = letters.sudo()._mail_get_alias_domains(default_company=self.env.company)
        companies = letters._mail_get_companies(default=self.env.company)
        reply_to = letters._notify_get_reply_to(default=email_from)
        if self.env.user.active:
            letters._message_subscribe(partner_ids=self.env.user.partner_id.ids)
        post_letters = letters.with_context(mail_notify_force_send=False, mail_create_nosubscribe=True)
        post_values = {
            letter.id: {
                "body": contents[letter.id][1],
                "subject": contents[letter.id][0],
                "author_id": author_id,
                "email_from": email_from,
                "partner_ids": letter.recipient_id.ids,
                "attachment_ids": letter.attachment_id.ids,
                "subtype_xmlid": "mail.mt_comment",
                "message_type": "comment",
                "email_layout_xmlid": "mail.mail_notification_light",
                "mail_auto_delete": False,
                "record_name": letter.sudo().display_name,
                "record_alias_domain_id": alias_domains[letter.id].id,
                "record_company_id": companies[letter.id].id,
                "reply_to": reply_to[letter.id],
            }
            for letter in letters
        }
        if not one_by_one and post_letters._email_batch_supported():
            messages = post_letters._post_emails(post_values)
        else:
            messages = self.env["mail.message"].union(
                *(letter.message_post(**post_values[letter.id]) for letter in post_letters)
            )
        for letter, message in zip(letters, messages, strict=True):
            letter.email_message_id = message

    def _email_batch_supported(self):
        """Whether ``_post_emails`` may stand for message_post here: no installed module
        overrides what it replaces (``BATCH_REPLACES``)."""
        return not self._email_batch_blockers()

    def _email_batch_blockers(self):
        """[(method, module)] of the overrides that keep ``_post_emails`` from standing for
        message_post."""
        blockers = []
        for cls in type(self).__mro__:
            for name, modules in BATCH_REPLACES.items():
                method = vars(cls).get(name)
                module = getattr(method, "__module__", None)
                if method is not None and module not in modules:
                    blockers.append((name, module))
        return blockers

    def _post_emails(self, post_values):
        """``message_post(**post_values[letter.id])`` for every letter, in one batch: the
        messages created together, their recipients fetched together (3 queries), the
        notification e-mails rendered per letter as Odoo renders them (same layout, groups
        and buttons) and created together with their notifications. Only for the arguments
        ``_send_email`` gives (a comment with existing attachments, its e-mails queued, not
        sent, scheduled or notified to the author). Returns the messages, in letter order."""
        letters = self._fallback_lang()
        subtype_ids = {}
        values_list, auto_delete = [], set()
        parent_ids = letters._email_parent_ids()
        for letter in letters:
            post = dict(post_values[letter.id])
            xmlid = post.pop("subtype_xmlid")
            if xmlid not in subtype_ids:
                subtype_ids[xmlid] = self.env["ir.model.data"]._xmlid_to_res_id(xmlid)
            attachment_ids = post.pop("attachment_ids")
            auto_delete.add(post.pop("mail_auto_delete", True))
            body, subject = post.pop("body"), post.pop("subject")
            values = {
                **{key: post.pop(key) for key in list(post) if key in self.env["mail.message"]._fields},
                "email_add_signature": True,
                "author_guest_id": False,
                "model": letter._name,
                "res_id": letter.id,
                "body": escape(body),
                "parent_id": parent_ids.get(letter.id, False),
                "subject": subject or False,
                "subtype_id": subtype_ids[xmlid],
            }
            if post:
                raise ValueError("_post_emails: unsupported arguments %s" % sorted(post))
            values.update(letter._process_attachments_for_post([], attachment_ids, values))
            values_list.append(values)
        messages = letters._message_create(values_list)
        for letter, message, values in zip(letters, messages, values_list, strict=True):
            letter._message_post_after_hook(message, values)
        if len(auto_delete) > 1:
            raise ValueError("_post_emails: one mail_auto_delete for all letters")
        letters._notify_emails(
            messages, values_list, mail_auto_delete=auto_delete.pop() if auto_delete else True
        )
        return messages

    def _email_parent_ids(self):
        """{letter id: its first message} (``_message_compute_parent_id`` of a new message
        on a flat thread), for all letters in one query."""
        if not self._mail_flat_thread:
            return {}
        groups = (
            self.env["mail.message"]
            .sudo()
            ._read_group(
                [
                    ("model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("message_type", "!=", "user_notification"),
                ],
                ["res_id"],
                ["id:min"],
            )
        )
        return dict(groups)

    def _notify_emails(self, messages, values_list, mail_auto_delete=True):
        """``_notify_thread`` of each letter's message (``messages`` and their creation
        ``values_list`` in letter order) done together: recipients, inbox and e-mail
        notifications, web push. E-mails queued (never sent here)."""
        letters = self._fallback_lang()
        recipients = letters._email_recipients_data(values_list)
        for rdata in recipients.values():
            for r in filter(lambda r: r["uid"], rdata):
                user = self.env["res.users"].browse(r["uid"])
                self.env.cache.insert_missing(user, user._fields["partner_id"], [r["id"]])
        mail_values, notification_rows = [], []
        pushed = set()
        for letter, message, values in zip(letters, messages, values_list, strict=True):
            rdata = recipients[letter.id]
            if not rdata:
                continue
            if any(r["notif"] == "inbox" for r in rdata):
                letter._notify_thread_by_inbox(message, rdata, msg_vals=values)
            # no tracking on a new message: the rendering need not search for it
            for mail, partner_ids in letter._email_notification_mails(
                message, rdata, {**values, "tracking_value_ids": []}, mail_auto_delete
            ):
                mail_values.append(mail)
                notification_rows.append((message, partner_ids))
            pushed.update(letter._extract_partner_ids_for_notifications(message, values, rdata))
        # as _notify_thread_by_email: no residual default_* keys of the caller's context
        safe_env = self.env(context=clean_context(self.env.context))
        mails = safe_env["mail.mail"].sudo().create(mail_values)
        safe_env["mail.notification"].sudo().create(
            [
                {
                    "author_id": message.author_id.id,
                    "is_read": True,  # discard Inbox notification
                    "mail_mail_id": mail.id,
                    "mail_message_id": message.id,
                    "notification_status": "ready",
                    "notification_type": "email",
                    "res_partner_id": partner_id,
                }
                for mail, (message, partner_ids) in zip(mails, notification_rows, strict=True)
                for partner_id in partner_ids
            ]
        )
        # web push and SMS: only the letters whose recipients use them
        devices = (
            self.env["mail.push.device"].sudo().search([("partner_id", "in", list(pushed))]) if pushed else []
        )
        device_partners = set(devices.partner_id.ids) if devices else set()
        for letter, message, values in zip(letters, messages, values_list, strict=True):
            rdata = recipients[letter.id]
            if device_partners & set(letter._extract_partner_ids_for_notifications(message, values, rdata)):
                letter._notify_thread_by_web_push(message, rdata, values)
            if hasattr(letter, "_notify_thread_by_sms") and any(r["notif"] == "sms" for r in rdata):
                letter._notify_thread_by_sms(message, rdata, msg_vals=values)

    def _email_recipients_data(self, values_list):
        """{letter id: recipients data}, what ``_notify_get_recipients`` gives for each
        letter's message, for all letters in 3 queries: the followers of the message's
        subtype, the message's partners, which of those follow the letter."""
        followers_model = self.env["mail.followers"]
        subtype_id = values_list[0]["subtype_id"] if values_list else False
        message_type = values_list[0]["message_type"] if values_list else False
        if any((v["subtype_id"], v["message_type"]) != (subtype_id, message_type) for v in values_list):
            raise ValueError("_email_recipients_data: one subtype and message type for all")
        followers = followers_model._get_recipient_data(self, message_type, subtype_id)
        pids = {pid for values in values_list for pid in values["partner_ids"]}
        direct, following = {}, set()
        if pids:
            direct = followers_model._get_recipient_data(self.browse(), message_type, subtype_id, pids)[0]
            following = {
                (follower.res_id, follower.partner_id.id)
                for follower in followers_model.sudo().search_fetch(
                    [
                        ("res_model", "=", self._name),
                        ("res_id", "in", self.ids),
                        ("partner_id", "in", list(pids)),
                    ],
                    ["res_id", "partner_id"],
                )
            }
        # never the author (as _notify_get_recipients without notify_author)
        notify_author = self.env.context.get("mail_notify_author")
        result = {}
        for letter, values in zip(self, values_list, strict=True):
            data = dict(followers.get(letter.id, {}))
            for pid in values["partner_ids"]:
                if pid not in data and pid in direct:
                    data[pid] = {**direct[pid], "is_follower": (letter.id, pid) in following}
            real_author_id = False
            if not notify_author:
                real_author_id = self.env.user.partner_id.id if self.env.user.active else values["author_id"]
            result[letter.id] = [
                pdata
                for pid, pdata in data.items()
                if not (pid and pid == real_author_id) and pdata["active"] is not False
            ]
        return result

    def _email_notification_mails(self, message, recipients_data, msg_vals, mail_auto_delete):
        """[(mail.mail values, partner ids)] of ``message`` on this letter, as
        ``_notify_thread_by_email`` makes them (one per group of recipients and language)."""
        self.ensure_one()
        partners_data = [r for r in recipients_data if r["notif"] == "email"]
        if not partners_data:
            return []
        base_mail_values = self._notify_by_email_get_base_mail_values(
            message, additional_values={"auto_delete": mail_auto_delete}
        )
        batch_size = int(self.env["ir.config_parameter"].sudo().get_param("mail.batch_size")) or 50
        mails = []
        for __, render_values, recipients_group in self._notify_get_classified_recipients_iterator(
            message, partners_data, msg_vals=msg_vals
        ):
            mail_body = self._notify_by_email_render_layout(
                message, recipients_group, msg_vals=msg_vals, render_values=render_values
            )
            recipients_ids = recipients_group.pop("recipients")
            for chunk in split_every(batch_size, recipients_ids):
                mail = self._notify_by_email_get_final_mail_values(
                    chunk, base_mail_values, additional_values={"body_html": mail_body}
                )
                mails.append((mail, list(chunk)))
        return mails

    def _render_emails(self):
        """{letter id: (subject, body)} of these letters' e-mails, rendered per template and
        language in one go (not one rendering per letter); letters without a template are
        left out."""
        default_template = self.env.ref(
            "credit_control.mail_template_credit_dunning_letter", raise_if_not_found=False
        )
        by_template = defaultdict(list)
        for letter in self:
            template = letter.level_id.mail_template_id or default_template
            if template:
                by_template[template].append(letter.id)
        contents = {}
        for template, ids in by_template.items():
            by_lang = defaultdict(list)
            for letter_id, lang in template._render_lang(ids).items():
                by_lang[lang].append(letter_id)
            for lang, lang_ids in by_lang.items():
                lang_template = template.with_context(lang=lang)
                subjects = lang_template._render_field("subject", lang_ids)
                bodies = self._render_email_bodies(lang_template, lang, lang_ids)
                contents.update(
                    (letter_id, (subjects[letter_id], bodies[letter_id])) for letter_id in lang_ids
                )
        return contents

    @api.model
    def _render_email_bodies(self, template, lang, res_ids):
        """``template._render_field("body_html", res_ids, compute_lang=True)`` for records
        of one language ``lang``, its QWeb compiled once, not once per record (Odoo's
        ``_render_template_qweb`` parses and compiles the body again for each record: about
        3 ms a letter). Anything else (another engine, a body of safe expressions only,
        a preview language) or any error: Odoo's own rendering (and its error messages)."""
        field = template._fields["body_html"]
        source, model = template.body_html, template.render_model
        if (
            getattr(field, "render_engine", None) != "qweb"
            or set(getattr(field, "render_options", {})) - {"post_process"}
            or self.env.context.get("template_preview_lang")
            or not source
            or not template._has_unsafe_expression_template_qweb(source, model)
        ):
            return template._render_field("body_html", res_ids, compute_lang=True)
        # as _render_field then _render_template_qweb: the template in the records' language,
        # the field's options given to QWeb, the restriction of template editors
        template = template.with_context(lang=lang) if lang else template
        options = dict(getattr(field, "render_options", {}))
        is_restricted = (
            not template._unrestricted_rendering
            and not self.env.is_admin()
            and not self.env.user.has_group("mail.group_mail_template_editor")
        )
        if is_restricted:
            options["raise_on_forbidden_code_for_model"] = model
        try:
            variables = template._render_eval_context()
            element = lxml.html.fragment_fromstring(source, create_parent="div")
            qweb = self.env["ir.qweb"].with_context(**options)
            functions = None
            rendered = {}
            for record in self.env[model].browse(res_ids):
                # as ir.qweb._render, the template compiled at the first record only
                values = {**variables, "object": record}
                record_qweb = qweb._prepare_environment(values)
                safe_eval.check_values(values)
                if functions is None:
                    functions = record_qweb._compile(element)
                template_functions, def_name = functions
                # the <div> wrapping the body's nodes removed, as _render_template_qweb does
                rendered[record.id] = Markup("".join(template_functions[def_name](record_qweb, values)))[5:-6]
        except Exception:  # noqa: BLE001 - Odoo's rendering raises its own error, with its message
            _logger.info("Dunning e-mails: body rendered by Odoo's per-record path", exc_info=True)
            return template._render_field("body_html", res_ids, compute_lang=True)
        if options.get("post_process"):
            rendered = template._render_template_postprocess(model, rendered)
        return rendered
