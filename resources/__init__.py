"""Resources shipped with htr-desktop: the model bundle and icons."""
