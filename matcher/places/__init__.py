"""Administrative divisions (province to township) with coordinates, and resolving a place from input."""
