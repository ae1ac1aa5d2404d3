"""Concerns: a participant's complaint about something wrong (a disclosure made without their
consent, a request the organization did not answer in time), sent to the organization as a
request to answer and to the network administrators, who reply as the network's ombudsperson."""
