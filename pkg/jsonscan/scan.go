package jsonscan

// maxDepth is encoding/json's nesting limit: deeper text is invalid.
const maxDepth = 10000

// Valid is json.Valid, byte for byte the same verdict (the fuzzer checks
// it), but without encoding/json's per-byte state machine: long strings
// are scanned in a tight loop.
func Valid(data []byte) bool {
	_, ok := scan(data, nil, false)
	return ok
}

// Member is one member of a JSON object: its key as written, quotes
// included, and its value, both sub-slices of the text.
type Member struct{ Key, Value []byte }

// Members validates data as Valid does and, when data is an object,
// appends each of its members to members (which may be a caller's array
// on the stack): one pass both validates and splits. ok is Valid's
// verdict; members come back only with it. A valid text that is not an
// object adds none.
func Members(data []byte, members []Member) (_ []Member, ok bool) {
	return scan(data, members, true)
}

// scan is Valid, and Members when split is set.
func scan(data []byte, members []Member, split bool) (_ []Member, ok bool) {
	var open []byte // '{' or '[' of each enclosing container
	var keyStart, keyEnd, valueStart int
	needKey := false // an object's member starts at i
	i := SkipSpace(data, 0)
	for {
		if needKey {
			end, next := memberKey(data, i)
			if next < 0 {
				return nil, false
			}
			if len(open) == 1 {
				keyStart, keyEnd = i, end
			}
			i, needKey = next, false
		}
		// A value starts at i.
		if i >= len(data) {
			return nil, false
		}
		if len(open) == 1 {
			valueStart = i
		}
		switch c := data[i]; {
		case c == '{' || c == '[':
			if open = append(open, c); len(open) > maxDepth {
				return nil, false
			}
			split = split && open[0] == '{'
			i = SkipSpace(data, i+1)
			if i >= len(data) || data[i] != closer(c) {
				needKey = c == '{'
				continue
			}
			open = open[:len(open)-1]
			i++
		case c == '"':
			if i = scanString(data, i); i < 0 {
				return nil, false
			}
		case c == 't':
			if i = literal(data, i, "true"); i < 0 {
				return nil, false
			}
		case c == 'f':
			if i = literal(data, i, "false"); i < 0 {
				return nil, false
			}
		case c == 'n':
			if i = literal(data, i, "null"); i < 0 {
				return nil, false
			}
		default:
			if i = scanNumber(data, i); i < 0 {
				return nil, false
			}
		}
		// A value ended at i: close containers until another value is due.
		for {
			if split && len(open) == 1 {
				members = append(members, Member{data[keyStart:keyEnd:keyEnd], data[valueStart:i:i]})
			}
			i = SkipSpace(data, i)
			if len(open) == 0 {
				if i != len(data) {
					return nil, false
				}
				return members, true
			}
			if i >= len(data) {
				return nil, false
			}
			top := open[len(open)-1]
			if data[i] == closer(top) {
				open = open[:len(open)-1]
				i++
				continue
			}
			if data[i] != ',' {
				return nil, false
			}
			i = SkipSpace(data, i+1)
			needKey = top == '{'
			break
		}
	}
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

// memberKey scans `"key" :` at i and returns where the key ends and where
// the value starts; next is -1 if there is no such key.
func memberKey(data []byte, i int) (end, next int) {
	if i >= len(data) || data[i] != '"' {
		return 0, -1
	}
	if end = scanString(data, i); end < 0 {
		return 0, -1
	}
	i = SkipSpace(data, end)
	if i >= len(data) || data[i] != ':' {
		return 0, -1
	}
	return end, SkipSpace(data, i+1)
}

// scanString returns the index after the string literal at data[i] ('"'),
// or -1. Like encoding/json, it allows any byte from 0x20 up, valid UTF-8
// or not.
func scanString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		if i += PlainRun(data[i:]); i >= len(data) {
			return -1
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) {
					return -1
				}
				for _, h := range data[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func literal(data []byte, i int, word string) int {
	if len(data)-i < len(word) || string(data[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}

// scanNumber returns the index after the number at data[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) int {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data) || !isDigit(data[i]):
		return -1
	case data[i] == '0':
		i++
	default:
		i = digits(data, i)
	}
	if i < len(data) && data[i] == '.' {
		if i+1 >= len(data) || !isDigit(data[i+1]) {
			return -1
		}
		i = digits(data, i+1)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		i = digits(data, i)
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(data []byte, i int) int {
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	return i
}

// SkipSpace returns the index of the first byte from i on that is not
// JSON white space.
func SkipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
