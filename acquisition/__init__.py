"""acquisition layer of calfwatch."""
