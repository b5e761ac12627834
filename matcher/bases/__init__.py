"""Companies certified as resettlement bases (安置基地): profile, certification lifecycle, agreements."""
