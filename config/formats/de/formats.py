"""German dates: 5. Januar 2026, 14:30 UTC (see config/formats/__init__.py)."""

from __future__ import annotations

DATE_FORMAT = "j. F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j. F Y, H:i T"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j. F"
YEAR_MONTH_FORMAT = "F Y"
