"""Stories: words about a participant, for a named use, published only as they approved them."""
