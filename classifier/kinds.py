"""Names of the event kinds, shared by the simulator's ground truth, the classifier and the outputs."""

FASCICULATION = "fasciculation"
MYOCLONUS = "myoclonus"
PLM = "plm"
CRAMP = "cramp"
VOLUNTARY = "voluntary"
ARTIFACT = "artifact"

#: Every kind an event can have, in the order reports list them.
EVENT_KINDS = (FASCICULATION, MYOCLONUS, PLM, CRAMP, VOLUNTARY, ARTIFACT)

#: Kinds that take a channel out of rest (rest time excludes them, with margins).
NON_REST_KINDS = (PLM, CRAMP, VOLUNTARY, ARTIFACT)
