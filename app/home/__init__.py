"""The participant's home page: what it shows (read_model.py), what needs the participant first
(attention.py), and its routes (views.py)."""
