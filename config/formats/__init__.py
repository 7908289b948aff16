"""The site's date and time formats, one per language (FORMAT_MODULE_PATH).

One style everywhere, localised: a date is "5 January 2026" ("5. Januar
2026"), a moment adds the time on the 24-hour clock and the zone it is in
("5 January 2026, 14:30 UTC").  The short formats are the same, so nothing
renders another style; a day without its year ("5 January", the chart's
axis) is MONTH_DAY_FORMAT.  Whatever is not set here is Django's for the
language (numbers, input formats).  Machines get ISO 8601 (`<time
datetime>`, the API, exports), never these.
"""
