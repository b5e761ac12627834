"""Long jobs (training, batch assignment, large imports): run on an RQ queue when one is configured, else inline."""
