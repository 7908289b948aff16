"""allauth's sentences, in the site's own German voice.

django-allauth ships German, but addresses the reader as "du" on most
account pages and in its emails ("Du hast noch kein Konto bei uns?"), and
as "Sie" on others; the site says "Sie" everywhere.  Our catalogue
(LOCALE_PATHS, locale/de) comes before allauth's, so a sentence translated
there is the one shown: listing allauth's sentences here (as they are
written in allauth, placeholders included) puts them in our catalogue when
the messages are made, to be translated in the site's voice.  Until one is,
allauth's own German shows.

Only what allauth says in the "du" form, on the pages and in the emails the
site uses (sign in and up, passwords, email addresses, two-factor), is
listed; the msgids must stay exactly allauth's (its version is pinned in
requirements.txt)."""

from __future__ import annotations

from django.utils.translation import gettext_noop as _

ALLAUTH_SENTENCES = [
    # account/adapter.py
    _("You cannot remove your primary email address."),
    # account/adapter.py
    _("Please type your current password."),
    # account/adapter.py
    _("You cannot add more than %d email addresses."),
    # account/adapter.py
    _("Your primary email address must be verified."),
    # account/adapter.py
    _("Be patient, you are sending too many requests."),
    # account/forms.py
    _("You must type the same password each time."),
    # account/forms.py
    _("You must type the same email each time."),
    # templates/account/email.html
    _("Do you really want to remove the selected email address?"),
    # templates/account/email/account_already_exists_message.txt
    _(
        "You are receiving this email because you or someone else tried to signup for "
        "an\naccount using email address:\n\n%(email)s\n\nHowever, an account using that email "
        "address already exists.  In case you have\nforgotten about this, please use the "
        "password forgotten procedure to recover\nyour account:\n\n%(password_reset_url)s"
    ),
    # templates/account/email/base_message.txt
    _("Thank you for using %(site_name)s!\n%(site_domain)s"),
    # templates/account/email/email_confirmation_subject.txt
    _("Please Confirm Your Email Address"),
    # templates/account/email/password_changed_message.txt
    _("Your password has been changed."),
    # templates/account/email/password_reset_key_message.txt
    _(
        "You're receiving this email because you or someone else has requested a password "
        "reset for your user account.\nIt can be safely ignored if you did not request a "
        "password reset. Click the link below to reset your password."
    ),
    # templates/account/email/password_reset_key_message.txt
    _("In case you forgot, your username is %(username)s."),
    # templates/account/email_change.html
    _("Your email address is still pending verification."),
    # templates/account/email_confirm.html
    _(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address '
        "for user %(user_display)s."
    ),
    # templates/account/email_confirm.html
    _(
        "This email confirmation link expired or is invalid. Please <a "
        'href="%(email_url)s">issue a new email confirmation request</a>.'
    ),
    # templates/account/login.html
    _("If you have not created an account yet, then please %(link)ssign up%(end_link)s first."),
    # templates/account/logout.html
    _("Are you sure you want to sign out?"),
    # templates/account/messages/cannot_delete_primary_email.txt
    _("You cannot remove your primary email address (%(email)s)."),
    # templates/account/messages/email_confirmed.txt
    _("You have confirmed %(email)s."),
    # templates/account/messages/logged_out.txt
    _("You have signed out."),
    # templates/account/password_reset.html
    _(
        "Forgotten your password? Enter your email address below, and we'll send you an "
        "email allowing you to reset it."
    ),
    # templates/account/password_reset.html
    _("Please contact us if you have any trouble resetting your password."),
    # templates/account/password_reset_done.html
    _(
        "We have sent you an email. If you have not received it please check your spam "
        "folder. Otherwise contact us if you do not receive it in a few minutes."
    ),
    # templates/account/password_reset_from_key.html
    _(
        "The password reset link was invalid, possibly because it has already been used.  "
        'Please request a <a href="%(passwd_reset_url)s">new password reset</a>.'
    ),
    # templates/account/password_reset_from_key_done.html
    _("Your password is now changed."),
    # templates/account/signup.html
    _("Already have an account? Then please %(link)ssign in%(end_link)s."),
    # templates/account/snippets/already_logged_in.html
    _("You are already logged in as %(user_display)s."),
    # templates/account/snippets/warn_no_email.html
    _(
        "You currently do not have any email address set up. You should really add an "
        "email address so you can receive notifications, reset your password, etc."
    ),
    # templates/account/verification_sent.html
    _("Verify Your Email Address"),
    # templates/account/verification_sent.html
    _(
        "We have sent an email to you for verification. Follow the link provided to "
        "finalize the signup process. If you do not see the verification email in your "
        "main inbox, check your spam folder. Please contact us if you do not receive the "
        "verification email within a few minutes."
    ),
    # templates/mfa/recovery_codes/generate.html
    _("You are about to generate a new set of recovery codes for your account."),
    # templates/mfa/totp/deactivate_form.html
    _("You are about to deactivate authenticator app based authentication. Are you sure?"),
]
