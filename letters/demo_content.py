from __future__ import annotations

# Demo content for the open-letter platform.
#
# Pure data: a fictional open letter from staff of the fictional company
# Northwind Software, an organiser account and a set of fictional signers.
# All names, addresses and organisations are invented.

DEMO_LETTER: dict[str, object] = {
    "slug": "northwind-ice",
    "language": "en",  # the language this text is written in (not the site default)
    "goal": 500,
    "allowed_domains": [],
    "addressees": [
        {
            "name": "Dana Whitfield",
            "role": "Chief Executive Officer, Northwind Software",
        },
        {
            "name": "Marcus Holloway",
            "role": "Chair of the Board of Directors, Northwind Software",
        },
    ],
    "title": "Northwind employees: our software should not power ICE",
    "body": """Dear Dana,

We are writing to you as employees of Northwind Software. Many of us joined \
Northwind because we believed that the tools we build help people work \
together and do good work. We are proud of what we make, and that is exactly \
why we are writing to you today.

We have learned that Northwind's software and services are used by U.S. \
Immigration and Customs Enforcement (ICE). Over the past months we have all \
seen the reports: children separated from their parents at the border, \
families held in overcrowded facilities, and people detained for long periods \
in conditions that independent observers have described as inhumane. These \
policies have caused lasting harm to thousands of people, many of them \
children.

## We do not want our work used this way

We did not write code, answer tickets, design interfaces or close deals so \
that they could support the separation and detention of families. We cannot \
stay silent while the products we build help make these practices run more \
efficiently. Other companies in our industry have faced the same question, \
and many of their employees have spoken up. We believe Northwind should lead, \
not follow.

We raise this out of respect for Northwind and for you. We know government \
contracts are complex and that this decision has real consequences for the \
business. But every company chooses which customers it serves and on what \
terms, and this is a choice about who we are. We ask that you make it \
openly, and that you make it now.

We ask the leadership of Northwind Software to take the steps listed below. \
We would welcome the opportunity to discuss them with you in an all-hands \
meeting, and we look forward to your response.

Respectfully,

Northwind employees
""",
    "demands": [
        "Publicly condemn ICE's actions, including the separation of families "
        "and the conditions in its detention facilities.",
        "Cancel all existing contracts that allow ICE to use Northwind's "
        "software and services, decline any renewals, and bar ICE from using "
        "our products in the future.",
        "Use Northwind's influence to advocate for the reform of immigration "
        "enforcement, and publish a clear ethics policy that governs all "
        "future government contracts.",
    ],
    "translations": {
        "de": {
            "title": "Northwind-Beschäftigte: Unsere Software darf ICE nicht unterstützen",
            "body": """Sehr geehrte Frau Whitfield,

wir wenden uns als Beschäftigte von Northwind Software an Sie. Viele von uns \
sind zu Northwind gekommen, weil wir überzeugt waren, dass die Werkzeuge, \
die wir entwickeln, Menschen helfen, zusammenzuarbeiten und gute Arbeit zu \
leisten. Wir sind stolz auf unsere Produkte – und genau deshalb schreiben wir \
Ihnen heute.

Wir haben erfahren, dass die Software und die Dienste von Northwind von der \
US-Einwanderungs- und Zollbehörde ICE (Immigration and Customs Enforcement) \
genutzt werden. In den vergangenen Monaten haben wir alle die Berichte \
gesehen: Kinder, die an der Grenze von ihren Eltern getrennt werden, \
Familien, die in überfüllten Einrichtungen festgehalten werden, und \
Menschen, die über lange Zeit unter Bedingungen inhaftiert sind, die \
unabhängige Beobachter als menschenunwürdig beschrieben haben. Diese Politik \
hat Tausenden von Menschen bleibenden Schaden zugefügt, viele von ihnen \
Kinder.

## Wir wollen nicht, dass unsere Arbeit so eingesetzt wird

Wir haben keinen Code geschrieben, keine Tickets beantwortet, keine \
Oberflächen gestaltet und keine Verträge abgeschlossen, damit all das die \
Trennung und Inhaftierung von Familien unterstützt. Wir können nicht \
schweigen, während die Produkte, die wir entwickeln, dazu beitragen, dass \
diese Praktiken reibungsloser ablaufen. Andere Unternehmen unserer Branche \
standen vor derselben Frage, und viele ihrer Beschäftigten haben ihre Stimme \
erhoben. Wir sind der Meinung, dass Northwind vorangehen sollte, statt \
anderen zu folgen.

Wir sprechen dieses Thema aus Respekt vor Northwind und vor Ihnen an. Uns ist \
bewusst, dass Regierungsaufträge komplex sind und dass diese Entscheidung \
reale Folgen für das Geschäft hat. Doch jedes Unternehmen entscheidet selbst, \
welche Kunden es zu welchen Bedingungen bedient – und hier geht es um die \
Frage, wer wir sein wollen. Wir bitten Sie, diese Entscheidung offen zu \
treffen, und zwar jetzt.

Wir fordern die Unternehmensleitung von Northwind Software auf, die unten \
aufgeführten Schritte zu unternehmen. Gerne würden wir diese in einer \
Betriebsversammlung mit Ihnen besprechen, und wir freuen uns auf Ihre \
Antwort.

Mit freundlichen Grüßen

Beschäftigte von Northwind
""",
            "demands": [
                "Verurteilen Sie öffentlich das Vorgehen von ICE, "
                "insbesondere die Trennung von Familien und die Bedingungen "
                "in ihren Haftanstalten.",
                "Kündigen Sie alle bestehenden Verträge, die ICE die Nutzung "
                "der Software und Dienste von Northwind ermöglichen, lehnen "
                "Sie jede Verlängerung ab und schließen Sie ICE künftig von "
                "der Nutzung unserer Produkte aus.",
                "Nutzen Sie den Einfluss von Northwind, um sich für eine "
                "Reform der Einwanderungsbehörden einzusetzen, und "
                "veröffentlichen Sie eine klare Ethikrichtlinie für alle "
                "künftigen Regierungsaufträge.",
            ],
        },
    },
    "change_note": "First published version.",
}

DEMO_ORGANISER: dict[str, str] = {
    "email": "organiser@example.org",
    "password": "undersigned-demo",
    "name": "Demo Organiser",
}

DEMO_SIGNERS: list[dict[str, str]] = [
    {
        "name": "Priya Raman",
        "email": "priya.raman@example.org",
        "job_title": "Senior Software Engineer",
        "team": "Engineering",
        "location": "Seattle",
        "comment": "I want to be proud of where my code ends up.",
        "display": "public",
    },
    {
        "name": "Jonas Becker",
        "email": "jonas.becker@example.org",
        "job_title": "Backend Engineer",
        "team": "Engineering",
        "location": "Berlin",
        "comment": "",
        "display": "public",
    },
    {
        "name": "Amara Okafor",
        "email": "amara.okafor@example.com",
        "job_title": "Product Designer",
        "team": "Design",
        "location": "London",
        "comment": "Design is never neutral. Neither is this contract.",
        "display": "public",
    },
    {
        "name": "Luis Moreno",
        "email": "luis.moreno@example.org",
        "job_title": "Customer Support Specialist",
        "team": "Support",
        "location": "Remote",
        "comment": "My parents were immigrants. This one is personal.",
        "display": "public",
    },
    {
        "name": "Hannah Schulz",
        "email": "hannah.schulz@example.com",
        "job_title": "Data Scientist",
        "team": "Data",
        "location": "Berlin",
        "comment": "",
        "display": "anonymous",
    },
    {
        "name": "Ethan Clarke",
        "email": "ethan.clarke@example.org",
        "job_title": "Account Executive",
        "team": "Sales",
        "location": "London",
        "comment": "There are customers we should be willing to lose.",
        "display": "public",
    },
    {
        "name": "Mei Lin Tan",
        "email": "meilin.tan@example.com",
        "job_title": "Staff Engineer",
        "team": "Engineering",
        "location": "Seattle",
        "comment": "",
        "display": "anonymous",
    },
    {
        "name": "Sofia Rossi",
        "email": "sofia.rossi@example.org",
        "job_title": "UX Researcher",
        "team": "Design",
        "location": "Remote",
        "comment": "Thank you to everyone who organised this.",
        "display": "public",
    },
    {
        "name": "Kwame Mensah",
        "email": "kwame.mensah@example.com",
        "job_title": "Data Engineer",
        "team": "Data",
        "location": "London",
        "comment": "",
        "display": "public",
    },
    {
        "name": "Rachel Nguyen",
        "email": "rachel.nguyen@example.org",
        "job_title": "Support Team Lead",
        "team": "Support",
        "location": "Seattle",
        "comment": "Families belong together.",
        "display": "anonymous",
    },
    {
        "name": "Tobias Wagner",
        "email": "tobias.wagner@example.com",
        "job_title": "Sales Engineer",
        "team": "Sales",
        "location": "Berlin",
        "comment": "",
        "display": "public",
    },
    {
        "name": "Grace O'Connell",
        "email": "grace.oconnell@example.org",
        "job_title": "Frontend Engineer",
        "team": "Engineering",
        "location": "Remote",
        "comment": "We build tools for people, not against them.",
        "display": "public",
    },
]
