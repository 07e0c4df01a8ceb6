"""The assessment's levels, lowest first: the one vocabulary of the assessment
(:mod:`classifier.assessment`) and of the checks of a thresholds file
(:mod:`classifier.config_bounds`), which the assessment's configuration goes through.

Examples
--------
>>> LEVELS.index(SEE_DOCTOR) > LEVELS.index(BENIGN)
True
"""

NOT_EVALUABLE = "not-evaluable"
BENIGN = "benign"
MONITOR = "monitor"
SEE_DOCTOR = "see-doctor"
#: Assessment levels, lowest first. ``not-evaluable`` is the level when no rule fired but the night
#: fails a minimum (rest, usable channels, quality, noise): never benign by default.
LEVELS = (NOT_EVALUABLE, BENIGN, MONITOR, SEE_DOCTOR)
