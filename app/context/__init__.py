"""The participant's own context: strengths, goals, things they want case managers to know."""
