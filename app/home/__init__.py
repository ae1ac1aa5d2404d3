"""The participant's home page: what it shows, which sections are kept rendered, its routes."""
