"""`make bench`: the production-like stack under load on one machine (issue 7).

`python -m bench --help` lists the options; bench/README.md says how to read
the table.  Figures are printed and written to bench/results/latest.json,
never asserted.
"""

from __future__ import annotations
