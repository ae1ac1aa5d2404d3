"""The data-justice consent portal."""
