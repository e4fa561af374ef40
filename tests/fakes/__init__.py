"""Local stand-ins for the outside services moviebot talks to, written for the tests."""
