"""dsp layer of calfwatch."""
