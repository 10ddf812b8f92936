"""General statistics, tables, plots and tidy results; never imports the study specification."""
