"""Maps drawn offline from the shipped place data: people counted by township, bases and slots, as server-side SVG."""
