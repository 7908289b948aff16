"""The OpenAPI 3.1 description of the read API (served at /api/openapi.json).

It describes exactly what `letters.api` answers; the schemathesis run in
tests/test_schemathesis.py holds the two together.  Every object schema
closes `additionalProperties`, so a field that is not described here (a
signer's name, say) fails that run.
"""

from __future__ import annotations

from typing import Any

from letters.models import PUBLIC_STATUSES, Answer, EventKind

DEMO_SLUG = "northwind-ice"  # the demo letter `make run` loads; used as the example

JSON = "application/json"


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_COUNT = {"type": "integer", "minimum": 0}
_DATETIME = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "LetterSummary": _object(
        {
            "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": [str(s) for s in PUBLIC_STATUSES]},
            "url": {"type": "string", "format": "uri"},
            "confirmed_count": _COUNT,
            "goal": {"type": ["integer", "null"], "minimum": 1},
        }
    ),
    "LetterList": _object({"letters": {"type": "array", "items": _ref("LetterSummary")}}),
    "Addressee": _object({"name": {"type": "string"}, "role": {"type": "string"}}),
    "Event": _object(
        {
            "kind": {"type": "string", "enum": list(EventKind.values)},
            "text": {"type": "string"},
            "created_at": _DATETIME,
        },
        "One entry of the public timeline.",
    ),
    "Version": _object(
        {
            "number": {"type": "integer", "minimum": 1},
            "created_at": _DATETIME,
            "change_note": {"type": "string"},
            "public_count": {
                **_COUNT,
                "description": (
                    "Confirmed signers of this text who show their name. Anonymous signers "
                    "are in the letter's totals only, never in a version's count."
                ),
            },
            "fingerprint": {
                "type": "string",
                "pattern": "^[0-9a-f]{64}$",
                "description": (
                    "SHA-256 over the version's text in every language: the body and the"
                    " ordered demands, then each translation by language code (0x01, code,"
                    " 0x00, body, each demand after 0x00). Any change to any language's"
                    " text of a published letter is a new version."
                ),
            },
            "languages": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The languages this version's text exists in, the original first.",
            },
        }
    ),
    "Demand": _object(
        {
            "text": {"type": "string"},
            "answer": {
                "type": ["string", "null"],
                "enum": [*Answer.values, None],
                "description": "The latest response's answer to the demand at this position "
                "of the delivered text; null before any response.",
            },
        }
    ),
    "Response": _object(
        {
            "statement": {"type": "string"},
            "created_at": _DATETIME,
            "source": {"type": "string", "description": "Where it was given, if recorded."},
        }
    ),
    "EmployerCount": _object(
        {
            "name": {"type": "string"},
            "confirmed": {
                **_COUNT,
                "description": "Verified signatures from addresses at this employer's email "
                "domains (subdomains included), anonymous ones too: a total, nothing inside it.",
            },
            "paper": {**_COUNT, "description": "Its staff's signatures on paper."},
            "total": {**_COUNT, "description": "confirmed + paper."},
        },
        "One employer of a coalition letter and its staff's signatures.",
    ),
    "OtherSupporters": _object(
        {
            "confirmed": {
                **_COUNT,
                "description": "Verified signatures from addresses at none of the employers' "
                "domains: counted apart, never as anyone's staff.",
            },
            "paper": {**_COUNT, "description": "Their signatures on paper."},
            "total": {**_COUNT, "description": "confirmed + paper."},
        },
        "Signers who are not the staff of any of the letter's employers.",
    ),
    "LetterDetail": _object(
        {
            "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": [str(s) for s in PUBLIC_STATUSES]},
            "url": {"type": "string", "format": "uri"},
            "goal": {"type": ["integer", "null"], "minimum": 1},
            "language": {"type": "string"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "confirmed_count": {**_COUNT, "description": "Verified (emailed-link) signatures."},
            "anonymous_count": {**_COUNT, "description": "Of those, who withheld their name."},
            "paper_count": {
                **_COUNT,
                "description": "Signatures collected on paper, as the organisers recorded "
                "them in batches (not verified): each batch counts as last corrected.  Every "
                "batch is a timeline event: `paper` (text: its count) or `paper_corrected` "
                "(text: the old and the new count, `40 → 38`).",
            },
            "total": {
                **_COUNT,
                "description": "confirmed_count + paper_count: online and paper together.",
            },
            "employers": {
                "type": "array",
                "items": _ref("EmployerCount"),
                "description": "The employers whose staff sign the letter (a coalition letter "
                "names several), in the letter's order; a signer's employer is the one their "
                "verified address's domain belongs to.  Empty when the letter names none (anyone "
                "may sign).  Each employer's confirmed count is part of confirmed_count.",
            },
            "other_supporters": {
                "oneOf": [_ref("OtherSupporters"), {"type": "null"}],
                "description": "Null unless the letter names employers and also accepts "
                "signers from outside them.",
            },
            "addressees": {"type": "array", "items": _ref("Addressee")},
            "demands": {"type": "array", "items": _ref("Demand")},
            "timeline": {"type": "array", "items": _ref("Event"), "maxItems": 50},
            "versions": {"type": "array", "items": _ref("Version")},
            "responses": {"type": "array", "items": _ref("Response")},
        },
        "A public letter.  Signers appear only as counts, never by name.",
    ),
    "DayCount": _object(
        {
            "date": {"type": "string", "format": "date"},
            "count": {"type": ["integer", "null"]},
            "suppressed": {"type": "boolean"},
        },
        "The net change of the confirmed count on one day: signatures confirmed that day "
        "minus counted ones withdrawn or invalidated that day (so it may be negative, and "
        "a past day never changes).  Days without change are left out; a small change is "
        "suppressed (null).",
    ),
    "LetterCounts": _object(
        {
            "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
            "confirmed_count": _COUNT,
            "anonymous_count": _COUNT,
            "paper_count": {**_COUNT, "description": "Signatures on paper (see Letter)."},
            "total": {**_COUNT, "description": "confirmed_count + paper_count."},
            "min_group": {
                "type": "integer",
                "minimum": 1,
                "description": "Days with a smaller change (up or down) are suppressed, and "
                "so is the next smallest day when only one would be.",
            },
            "days": {"type": "array", "items": _ref("DayCount")},
        }
    ),
    "Error": _object({"detail": {"type": "string"}}),
}

_CACHE_HEADERS: dict[str, Any] = {
    "Cache-Control": {
        "required": True,
        "description": "public, max-age = the count interval, stale-while-revalidate",
        "schema": {"type": "string", "pattern": "^public, max-age=[0-9]+"},
    },
    "ETag": {"required": True, "schema": {"type": "string"}},
    "Last-Modified": {"required": True, "schema": {"type": "string"}},
    "Access-Control-Allow-Origin": {"required": True, "schema": {"type": "string", "const": "*"}},
}

_CONDITIONAL: list[dict[str, Any]] = [
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "An ETag from an earlier answer: 304 while it is current.",
        "schema": {"type": "string"},
    },
]

_SLUG: dict[str, Any] = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The letter's address.",
    "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "minLength": 1, "maxLength": 80},
    "example": DEMO_SLUG,
}


def _get(operation_id: str, summary: str, schema: str, *, slug: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "OK",
            "headers": _CACHE_HEADERS,
            "content": {JSON: {"schema": _ref(schema)}},
        },
        "304": {"description": "Not modified (If-None-Match matched).", "headers": _CACHE_HEADERS},
    }
    if slug:
        responses["404"] = {
            "description": "No public letter at this address.",
            "content": {JSON: {"schema": _ref("Error")}},
        }
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": ([_SLUG] if slug else []) + _CONDITIONAL,
            "responses": responses,
        }
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Undersigned read API",
            "version": "1.0.0",
            "description": "Public, read-only, cacheable for the count interval, open to "
            "every origin (CORS, GET only, no credentials).  Signers appear only as counts.",
        },
        "paths": {
            "/api/letters/": _get("listLetters", "Open letters", "LetterList"),
            "/api/letters/{slug}/": _get("getLetter", "A public letter", "LetterDetail", slug=True),
            "/api/letters/{slug}/counts/": _get(
                "getLetterCounts", "Confirmed signatures per day", "LetterCounts", slug=True
            ),
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OK",
                            "headers": _CACHE_HEADERS,
                            "content": {JSON: {"schema": {"type": "object"}}},
                        },
                        "304": {"description": "Not modified.", "headers": _CACHE_HEADERS},
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
