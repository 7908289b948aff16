"""Demo content: a coalition letter from staff of three fictional companies.

Pure data for `load_demo` (`make run`).  Every name, address and company is
invented; the domains are under `.example`, which never resolves.
"""

from __future__ import annotations

DEMO_COALITION: dict[str, object] = {
    "slug": "tech-workers-no-ice",
    "language": "en",
    "goal": 300,
    "title": "Tech workers at three companies: stop selling to ICE",
    "addressees": [
        {"name": "Dana Whitfield", "role": "CEO, Northwind Software"},
        {"name": "Ravi Menon", "role": "CEO, Contoso Cloud"},
        {"name": "Grace Albright", "role": "CEO, Fabrikam Systems"},
    ],
    "body": """To the leadership of Northwind Software, Contoso Cloud and Fabrikam Systems,

We are employees of three companies that compete with each other every day.
On one thing we agree: the software we build should not be used to separate
families and detain people in conditions independent inspectors have called
inhumane.

Each of our companies sells products or services to U.S. Immigration and
Customs Enforcement (ICE). We are writing to each of you, together, because
no single company should be able to say that if it stops, a competitor will
simply take the contract.

We ask each of you to answer for your own company.""",
    "demands": [
        "Publicly condemn the family separation and detention practices of ICE.",
        "End existing contracts with ICE and refuse new ones.",
        "Publish an ethics policy for government contracts, written with employees.",
    ],
    "employers": [
        {"name": "Northwind Software", "domains": ["northwind.example"]},
        {"name": "Contoso Cloud", "domains": ["contoso.example", "contoso-labs.example"]},
        {"name": "Fabrikam Systems", "domains": ["fabrikam.example"]},
    ],
    "accept_supporters": True,
    "change_note": "First published version.",
    # Contoso's leadership answered; Northwind acknowledged; Fabrikam is silent.
    "response": {
        "employer": "Contoso Cloud",
        "statement": (
            "We have heard our employees. Contoso Cloud will not renew its ICE contract"
            " when it ends in March, and we will publish an ethics policy for public-sector"
            " work, drafted with an employee council, within 90 days."
        ),
        "answers": ["considering", "accepted", "accepted"],
    },
    "acknowledged": "Northwind Software",
}

DEMO_COALITION_SIGNERS: list[dict[str, str]] = [
    {"name": "Aisha Bello", "email": "aisha.bello@northwind.example", "team": "Engineering",
     "display": "public"},
    {"name": "Tom Fischer", "email": "tom.fischer@eu.northwind.example", "team": "Sales",
     "display": "public"},
    {"name": "", "email": "n.anon1@northwind.example", "team": "", "display": "anonymous"},
    {"name": "", "email": "n.anon2@northwind.example", "team": "", "display": "anonymous"},
    {"name": "Carmen Ruiz", "email": "carmen.ruiz@contoso.example", "team": "Cloud Platform",
     "display": "public"},
    {"name": "Daniel Park", "email": "daniel.park@contoso-labs.example", "team": "Research",
     "display": "public"},
    {"name": "Lena Vogel", "email": "lena.vogel@contoso.example", "team": "Design",
     "display": "public"},
    {"name": "", "email": "c.anon1@contoso.example", "team": "", "display": "anonymous"},
    {"name": "Yusuf Demir", "email": "yusuf.demir@fabrikam.example", "team": "Data",
     "display": "public"},
    {"name": "", "email": "f.anon1@fabrikam.example", "team": "", "display": "anonymous"},
    {"name": "Rosa Lind", "email": "rosa.lind@example.com", "team": "", "display": "public"},
]  # fmt: skip
