"""Multi-node proofs on a private cluster (bench/cluster.py): `make test-cluster`."""

from __future__ import annotations
