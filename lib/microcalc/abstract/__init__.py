"""The paper's reported numbers as data: reading them, tests of 2 x k tables, reconstruction and consistency."""
