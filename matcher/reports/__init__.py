"""Reports: the aggregate figures a justice bureau reports, counted in SQL."""
