"""Support shared by the tests and the benchmarks: local stand-ins for the outside
services moviebot talks to, the Redis server runner, the simulated crowd and its audit,
test doubles and the benchmarks' common helpers. Not shipped in the wheel."""
