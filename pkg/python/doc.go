// Package python is how Python writes values: str, repr, json.dumps; and,
// for the error texts that name them, how it judges them (bool(), type
// names).
//
// The Python service's exception messages, bank files and database rows are
// made of such text, and the Go service must write it byte for byte. The
// values are the JSON-like ones both services exchange: nil (None), bool,
// strings, numbers (float64, Go integers, json.Number as json.loads would
// read it), []any, []string and map[string]any. A Go value with no Python
// counterpart (an error, a fmt.Stringer, anything else) stands for a str
// holding its text, unless it is a Reprer. Go maps have no insertion order:
// a map[string]any is written with its keys sorted.
//
// The JSON functions write what json.dumps writes with its defaults:
// separators ", " and ": ", ensure_ascii (everything outside printable ASCII
// as a lower-case \uXXXX escape, surrogate pairs above U+FFFF, invalid UTF-8
// as U+FFFD), object keys in their given order.
//
// The package depends on the standard library only.
package python
