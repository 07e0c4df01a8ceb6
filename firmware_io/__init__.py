"""firmware_io layer of calfwatch."""
