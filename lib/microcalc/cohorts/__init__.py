"""Cohorts: the data contract, reading and cleaning a site's files, and the synthetic cohorts."""
