package bank

import (
	"fmt"
	"strings"
)

// The Python messages, word for word (karbor/services/protection/bank_plugin.py).
const (
	keyCharsMessage     = `Only alphanumeric, underscore, dash, dots, at signs, and slashes are allowed. Key: "%s"`
	dotPartsMessage     = `Invalid parameter: must not contain "." or ".." parts`
	emptySectionMessage = "Empty section"
	sectionMessage      = "Invalid section. Must begin and end with a slash, and contain valid characters"
)

// validKeyByte reports whether c may appear in a bank key: [A-Za-z0-9/_.\-@].
func validKeyByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '/' || c == '_' || c == '.' || c == '-' || c == '@'
}

// ValidKeyChars reports whether s is made only of key characters (an empty
// s is valid).
func ValidKeyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !validKeyByte(s[i]) {
			return false
		}
	}
	return true
}

// dotPart returns the first "." or ".." part of a slash-separated path.
func dotPart(s string) string {
	for part := range strings.SplitSeq(s, "/") {
		if part == "." || part == ".." {
			return part
		}
	}
	return ""
}

// collapseSlashes turns runs of "/" into one.
func collapseSlashes(s string) string {
	if !strings.Contains(s, "//") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && i > 0 && s[i-1] == '/' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// absolute makes s start with exactly one "/", with no runs of slashes.
func absolute(s string) string {
	return collapseSlashes("/" + s)
}

// NormalizeKey validates an object key and returns it as backends see it:
// absolute, with runs of slashes collapsed. Python normalises with
// os.path.normpath after checking only a leading "." part; this refuses "."
// and ".." parts anywhere instead, so a key can never name anything but
// itself.
func NormalizeKey(key string) (string, error) {
	if key == "" || !ValidKeyChars(key) || strings.HasSuffix(key, "/") {
		return "", &InvalidKeyError{Key: key, Reason: fmt.Sprintf(keyCharsMessage, key)}
	}
	switch dotPart(key) {
	case "..":
		return "", &InvalidPathError{Path: absolute(key)}
	case ".":
		return "", &InvalidKeyError{Key: key, Reason: dotPartsMessage}
	}
	return absolute(key), nil
}

// normalizeSection validates a section prefix and returns it absolute and
// ending with "/".
func normalizeSection(section string) (string, error) {
	if section == "" {
		return "", &InvalidKeyError{Key: section, Reason: emptySectionMessage}
	}
	if !ValidKeyChars(section) {
		return "", &InvalidKeyError{Key: section, Reason: sectionMessage}
	}
	if dotPart(section) != "" {
		return "", &InvalidKeyError{Key: section, Reason: dotPartsMessage}
	}
	p := absolute(section)
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// normalizePrefix validates a listing prefix ("" lists everything) and
// returns it absolute. Python does not validate listing prefixes at all, so
// its FS plugin would walk "/../" outside the bank.
func normalizePrefix(prefix string) (string, error) {
	if prefix == "" {
		return "/", nil
	}
	if !ValidKeyChars(prefix) {
		return "", &InvalidKeyError{Key: prefix, Reason: fmt.Sprintf(keyCharsMessage, prefix)}
	}
	switch dotPart(prefix) {
	case "..":
		return "", &InvalidPathError{Path: absolute(prefix)}
	case ".":
		return "", &InvalidKeyError{Key: prefix, Reason: dotPartsMessage}
	}
	return absolute(prefix), nil
}

// CheckPluginKey is the check a Plugin makes before a key (or, isPrefix, a
// listing prefix) touches storage: what Bank passes and nothing else. A key
// is absolute, made of key characters, with no empty, "." or ".." parts
// and no trailing slash; a prefix may end in "/" or in a partial last part.
func CheckPluginKey(key string, isPrefix bool) error {
	if len(key) < 2 && !isPrefix || !strings.HasPrefix(key, "/") || !ValidKeyChars(key) ||
		!isPrefix && strings.HasSuffix(key, "/") {
		return &InvalidKeyError{Key: key, Reason: fmt.Sprintf(keyCharsMessage, key)}
	}
	parts := strings.Split(key[1:], "/")
	if isPrefix {
		parts = parts[:len(parts)-1] // the last part of a prefix may be empty or partial
	}
	for _, part := range parts {
		switch part {
		case "..":
			return &InvalidPathError{Path: key}
		case "", ".":
			return &InvalidKeyError{Key: key, Reason: dotPartsMessage}
		}
	}
	if isPrefix && strings.HasSuffix(key, "/..") {
		return &InvalidPathError{Path: key}
	}
	return nil
}
