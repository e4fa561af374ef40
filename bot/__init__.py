"""The running moviebot program: configuration, command line and wiring."""
