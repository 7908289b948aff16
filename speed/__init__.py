"""The speed machinery: every trick that makes a hot path faster than the
plain Django way, in one place.  docs/speed.md lists each with its measured
gain, the target it serves and the setting that turns it off."""
