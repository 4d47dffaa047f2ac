"""Dunning letter: its e-mail, rendered by the level's template and queued (all letters of a
run together)."""

from collections import defaultdict

from odoo import models

from .account_move import DUNNING_WRITE


class CreditDunningLetter(models.Model):
    _inherit = "credit.dunning.letter"

    # === BUSINESS METHODS: e-mail === #
    def _send_email(self, retry=False, contents=None):
        """Queue the e-mail of each validated letter with its PDF attached (rendered by the
        level's template, in the recipient's language). Idempotent: a letter that already has
        its e-mail is skipped, unless ``retry`` and that e-mail failed. ``contents``: subject
        and body per letter id already rendered (``_render_emails``), else rendered here."""
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
        for letter in post_letters:
            subject, body = contents[letter.id]
            message = letter.message_post(
                body=body,
                subject=subject,
                author_id=author_id,
                email_from=email_from,
                partner_ids=letter.recipient_id.ids,
                attachment_ids=letter.attachment_id.ids,
                subtype_xmlid="mail.mt_comment",
                message_type="comment",
                email_layout_xmlid="mail.mail_notification_light",
                mail_auto_delete=False,
                record_name=letter.sudo().display_name,
                record_alias_domain_id=alias_domains[letter.id].id,
                record_company_id=companies[letter.id].id,
                reply_to=reply_to[letter.id],
            )
            letter.email_message_id = message

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
                bodies = lang_template._render_field("body_html", lang_ids, compute_lang=True)
                contents.update(
                    (letter_id, (subjects[letter_id], bodies[letter_id])) for letter_id in lang_ids
                )
        return contents
