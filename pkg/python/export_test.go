package python

// ReprTuple exposes reprTuple to the tests, which check it against Python.
var ReprTuple = reprTuple

// LoadValidObject and DecodeMembers expose Members' two readers, which
// FuzzMembersReaders checks against each other.
var (
	LoadValidObject = loadValidObject
	DecodeMembers   = decodeMembers
)
