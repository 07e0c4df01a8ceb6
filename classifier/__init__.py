"""classifier layer of calfwatch."""
