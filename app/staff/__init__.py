"""Staff of an organization: logging in, the access log, assisted intake, handing the device
over."""
