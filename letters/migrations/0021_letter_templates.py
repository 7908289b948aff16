"""Letter templates (issue 19): the table, and the first three templates in
English and German ("stop a contract", "reverse a policy", "recognise our
union").  Templates in a language the site does not offer are not seeded.
Admins edit or retire them afterwards; the reverse removes only the seeded
ones that are still unchanged.

Each paragraph of a body is one line, as organisers will edit it in a text
box (a hard-wrapped paragraph would show its breaks there)."""

# ruff: noqa: E501

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations, models

import letters.models.languages

SEEDS: list[dict[str, Any]] = [
    # --- English ------------------------------------------------------------------
    {
        "language": "en",
        "position": 10,
        "name": "Stop a contract",
        "description": (
            "Ask leadership to end or not renew a contract with a client or supplier"
            " whose work you object to."
        ),
        "title": "End our contract with [client or supplier]",
        "body": """Dear [name of the chief executive],

We are employees of [company], and we are writing to you about the company's contract with [client or supplier].

[In two or three sentences: what the contract is, what it asks our work to do, and why that matters. Keep to facts that any colleague can check.]

We are proud of what we build here and we want to stay proud of it. Work that [harms people / goes against the commitments in our code of conduct] is not what we joined this company to do, and we do not believe our customers expect it of us either.

We are not asking you to decide this alone or overnight. We are asking you to take our concerns seriously, to answer them openly, and to put the values the company has stated ahead of a single contract.

Respectfully,

The undersigned employees of [company]
""",
        "demands": [
            "End the contract with [client or supplier] and do not renew or extend it",
            "Publish the criteria the company uses to accept or refuse contracts like this one",
            "Give employees a way to raise concerns about a contract before it is signed,"
            " without fear of retaliation",
        ],
    },
    {
        "language": "en",
        "position": 20,
        "name": "Reverse a policy",
        "description": (
            "Ask leadership to withdraw a decision or policy that harms employees,"
            " and to consult them on what replaces it."
        ),
        "title": "Reverse the [name of the policy]",
        "body": """Dear [name of the chief executive],

On [date], the company announced [the policy], which [what it changes for employees]. We, the undersigned employees, ask you to reverse it.

[Explain in a few sentences how the policy affects people's work and lives: who it hits hardest, and what has already changed since it began.]

We understand the problem the policy was meant to solve: [the reason the company gave]. We believe there are better ways to solve it, and that the people who do the work should have a say in finding them.

We would welcome the chance to discuss this with you, and we ask for a written answer.

Respectfully,

The undersigned employees of [company]
""",
        "demands": [
            "Withdraw [the policy] and restore the previous arrangement while it is reviewed",
            "Consult employees before deciding on anything that replaces it",
            "Answer this letter in writing by [date]",
        ],
    },
    {
        "language": "en",
        "position": 30,
        "name": "Recognise our union",
        "description": (
            "Ask leadership to recognise your union, stay neutral and start negotiating."
        ),
        "title": "Recognise [name of the union] at [company]",
        "body": """Dear [name of the chief executive],

We, the undersigned employees of [company], have come together in [name of the union] so that we can talk with the company as equals about our pay, our hours and the way we work.

We ask you to recognise [name of the union] as the representative of [who it represents, for example: all staff in the UK offices] and to begin negotiating with us in good faith.

Recognition is not a step against the company. It gives both sides a clear and reliable way to solve problems before they become disputes, and it means that decisions which affect us are made with us rather than about us.

We also ask you to respect every employee's right to choose: no meetings meant to discourage membership, no pressure on anyone, and no retaliation against anyone for signing this letter or joining the union.

Respectfully,

The undersigned employees of [company]
""",
        "demands": [
            "Recognise [name of the union] as the representative of [who it represents]",
            "Stay neutral: no campaign against union membership and no retaliation",
            "Meet the union's representatives within [30] days to agree how negotiations will work",
        ],
    },
    # --- Deutsch -------------------------------------------------------------------
    {
        "language": "de",
        "position": 10,
        "name": "Einen Vertrag beenden",
        "description": (
            "Die Geschäftsführung auffordern, einen Vertrag mit einem Kunden oder"
            " Lieferanten zu beenden oder nicht zu verlängern."
        ),
        "title": "Beenden Sie den Vertrag mit [Kunde oder Lieferant]",
        "body": """Sehr geehrte/r [Name der Geschäftsführerin oder des Geschäftsführers],

wir sind Beschäftigte von [Unternehmen] und schreiben Ihnen wegen des Vertrags unseres Unternehmens mit [Kunde oder Lieferant].

[In zwei oder drei Sätzen: worum es in dem Vertrag geht, was er von unserer Arbeit verlangt und warum das wichtig ist. Bleiben Sie bei Tatsachen, die alle Kolleginnen und Kollegen nachprüfen können.]

Wir sind stolz auf das, was wir hier schaffen, und wir möchten es bleiben. Arbeit, die [Menschen schadet / den Grundsätzen unseres Verhaltenskodex widerspricht], ist nicht das, wofür wir zu diesem Unternehmen gekommen sind, und wir glauben nicht, dass unsere Kundinnen und Kunden sie von uns erwarten.

Wir verlangen nicht, dass Sie dies allein oder über Nacht entscheiden. Wir bitten Sie, unsere Bedenken ernst zu nehmen, offen darauf zu antworten und die Werte, zu denen sich das Unternehmen bekennt, über einen einzelnen Vertrag zu stellen.

Mit freundlichen Grüßen

Die unterzeichnenden Beschäftigten von [Unternehmen]
""",
        "demands": [
            "Beenden Sie den Vertrag mit [Kunde oder Lieferant] und verlängern Sie ihn nicht",
            "Veröffentlichen Sie die Kriterien, nach denen das Unternehmen solche Aufträge"
            " annimmt oder ablehnt",
            "Geben Sie den Beschäftigten die Möglichkeit, Bedenken gegen einen Vertrag vor"
            " dessen Abschluss zu äußern, ohne Nachteile befürchten zu müssen",
        ],
    },
    {
        "language": "de",
        "position": 20,
        "name": "Eine Entscheidung rückgängig machen",
        "description": (
            "Die Geschäftsführung auffordern, eine Regelung zurückzunehmen, die den"
            " Beschäftigten schadet, und sie an einer neuen zu beteiligen."
        ),
        "title": "Nehmen Sie [Name der Regelung] zurück",
        "body": """Sehr geehrte/r [Name der Geschäftsführerin oder des Geschäftsführers],

am [Datum] hat das Unternehmen [die Regelung] angekündigt, die [was sie für die Beschäftigten ändert]. Wir, die unterzeichnenden Beschäftigten, bitten Sie, diese Entscheidung zurückzunehmen.

[Beschreiben Sie in wenigen Sätzen, wie sich die Regelung auf Arbeit und Leben der Beschäftigten auswirkt: wen sie am stärksten trifft und was sich seit ihrer Einführung schon verändert hat.]

Wir verstehen, welches Problem die Regelung lösen sollte: [der vom Unternehmen genannte Grund]. Wir sind überzeugt, dass es bessere Wege gibt, es zu lösen, und dass diejenigen, die die Arbeit tun, dabei mitreden sollten.

Wir würden uns über ein Gespräch mit Ihnen freuen und bitten um eine schriftliche Antwort.

Mit freundlichen Grüßen

Die unterzeichnenden Beschäftigten von [Unternehmen]
""",
        "demands": [
            "Nehmen Sie [die Regelung] zurück und stellen Sie bis zu einer Überprüfung"
            " den vorherigen Zustand wieder her",
            "Beteiligen Sie die Beschäftigten, bevor über eine neue Regelung entschieden wird",
            "Beantworten Sie diesen Brief bis zum [Datum] schriftlich",
        ],
    },
    {
        "language": "de",
        "position": 30,
        "name": "Unsere Gewerkschaft anerkennen",
        "description": (
            "Die Geschäftsführung auffordern, die Gewerkschaft als Verhandlungspartnerin"
            " anzuerkennen, neutral zu bleiben und Verhandlungen aufzunehmen."
        ),
        "title": "Erkennen Sie [Name der Gewerkschaft] bei [Unternehmen] an",
        "body": """Sehr geehrte/r [Name der Geschäftsführerin oder des Geschäftsführers],

wir, die unterzeichnenden Beschäftigten von [Unternehmen], haben uns in [Name der Gewerkschaft] zusammengeschlossen, um mit dem Unternehmen auf Augenhöhe über unsere Bezahlung, unsere Arbeitszeiten und unsere Arbeitsbedingungen zu sprechen.

Wir bitten Sie, [Name der Gewerkschaft] als Vertretung [für wen, zum Beispiel: aller Beschäftigten an den deutschen Standorten] anzuerkennen und mit uns ernsthafte Verhandlungen über einen Tarifvertrag aufzunehmen.

Die Anerkennung richtet sich nicht gegen das Unternehmen. Sie gibt beiden Seiten einen klaren und verlässlichen Weg, Probleme zu lösen, bevor sie zu Konflikten werden, und sie sorgt dafür, dass Entscheidungen, die uns betreffen, mit uns getroffen werden und nicht über uns.

Wir bitten Sie außerdem, die freie Entscheidung aller Beschäftigten zu achten: keine Veranstaltungen, die von einer Mitgliedschaft abhalten sollen, kein Druck auf Einzelne und keine Nachteile für alle, die diesen Brief unterschreiben oder der Gewerkschaft beitreten.

Mit freundlichen Grüßen

Die unterzeichnenden Beschäftigten von [Unternehmen]
""",
        "demands": [
            "Erkennen Sie [Name der Gewerkschaft] als Verhandlungspartnerin für [für wen] an",
            "Bleiben Sie neutral: keine Kampagne gegen die Mitgliedschaft und keine Nachteile"
            " für Mitglieder",
            "Treffen Sie sich innerhalb von [30] Tagen mit Vertreterinnen und Vertretern der"
            " Gewerkschaft, um den Ablauf der Verhandlungen zu vereinbaren",
        ],
    },
]


def seed(apps: Any, schema_editor: Any) -> None:
    LetterTemplate = apps.get_model("letters", "LetterTemplate")
    offered = {code for code, _name in settings.LANGUAGES}
    LetterTemplate.objects.bulk_create(
        [LetterTemplate(**fields) for fields in SEEDS if fields["language"] in offered]
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    LetterTemplate = apps.get_model("letters", "LetterTemplate")
    for fields in SEEDS:
        LetterTemplate.objects.filter(**fields).delete()


class Migration(migrations.Migration):
    dependencies = [("letters", "0020_paper_batches")]

    operations = [
        migrations.CreateModel(
            name="LetterTemplate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="What organisers choose, e.g. Stop a contract.",
                        max_length=100,
                        verbose_name="name",
                    ),
                ),
                (
                    "description",
                    models.CharField(
                        blank=True,
                        help_text="One sentence: when this template fits.",
                        max_length=300,
                        verbose_name="description",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=letters.models.languages.language_choices,
                        default=letters.models.languages.default_language,
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                (
                    "body",
                    models.TextField(
                        help_text="Put what the organiser must fill in between [square brackets].",
                        verbose_name="letter (Markdown)",
                    ),
                ),
                ("demands", models.JSONField(blank=True, default=list, verbose_name="demands")),
                (
                    "active",
                    models.BooleanField(
                        default=True,
                        help_text=(
                            "Untick to retire the template; letters started from it are"
                            " not affected."
                        ),
                        verbose_name="offered to organisers",
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        default=0, help_text="Smaller numbers come first.", verbose_name="position"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "letter template",
                "verbose_name_plural": "letter templates",
                "ordering": ["position", "name"],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
