"""Reference vocabularies: training courses, the skills taxonomy and occupations."""
