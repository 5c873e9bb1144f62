package python

// ReprTuple exposes reprTuple to the tests, which check it against Python.
var ReprTuple = reprTuple
