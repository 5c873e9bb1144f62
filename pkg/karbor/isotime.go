package karbor

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// The iso8601 package's pattern (used by oslo_utils.timeutils.parse_isotime),
// without its one lookahead: a two-digit month must not end the string
// (YYYYMM), which ParseISOTime checks after matching.
var iso8601Pattern = regexp.MustCompile(`^([0-9]{4})` +
	`((-([0-9]{1,2})|([0-9]{2}))` +
	`((-([0-9]{1,2})|([0-9]{2}))` +
	`(([ T])([0-9]{2})(:?([0-9]{2}))?(:?([0-9]{1,2})([.,]([0-9]+))?)?` +
	`(Z|(([-+])([0-9]{2}):?([0-9]{2})?))?)?)?)?$`)

// Submatch indexes in iso8601Pattern.
const (
	isoYear, isoMonthDash, isoMonth, isoDayPart, isoDayDash, isoDay = 1, 4, 5, 6, 8, 9
	isoHour, isoMinute, isoSecond, isoFraction                      = 12, 14, 16, 18
	isoZone, isoTZSign, isoTZHour, isoTZMinute                      = 19, 21, 22, 23
)

// ParseISOTime is oslo_utils.timeutils.parse_isotime: ISO 8601 as the
// iso8601 package reads it (date only, "T" or " " before the time, optional
// minutes and seconds, "." or "," fraction, "Z" or an offset; no zone means
// UTC). The fraction is cut to microseconds. Errors are the ValueError Python
// raises, with its message.
func ParseISOTime(s string) (time.Time, error) {
	if t, err, ok := parseCommonISOTime(s); ok {
		return t, err
	}
	return parseISOTimePattern(s)
}

// parseCommonISOTime reads the form every request context's timestamp has,
// YYYY-MM-DDTHH:MM:SS with an optional fraction and no zone, without the
// pattern's submatching (a request's costliest step before this); ok is
// false for any other text. Every text it reads, the pattern reads the
// same (FuzzParseISOTimeForms checks it).
func parseCommonISOTime(s string) (t time.Time, err error, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, nil, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, second := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 {
		return time.Time{}, nil, false
	}
	micro := 0
	if len(s) > 19 {
		if (s[19] != '.' && s[19] != ',') || len(s) == 20 || !allDigits(s[20:]) {
			return time.Time{}, nil, false
		}
		micro = num(20, min(len(s), 26))
		for i := len(s); i < 26; i++ {
			micro *= 10
		}
	}
	if err := checkDateTime(year, month, day, hour, minute, second); err != nil {
		return time.Time{}, err, true
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, micro*1000, time.UTC), nil, true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseISOTimePattern is ParseISOTime by the iso8601 package's pattern.
func parseISOTimePattern(s string) (time.Time, error) {
	m := iso8601Pattern.FindStringSubmatch(s)
	if m == nil || (m[isoMonth] != "" && m[isoDayPart] == "") {
		return time.Time{}, ValueError("Unable to parse date string " + python.ReprString(s))
	}
	num := func(i int, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	year := num(isoYear, 0)
	month := num(isoMonth, num(isoMonthDash, 1))
	day := num(isoDay, num(isoDayDash, 1))
	hour, minute, second := num(isoHour, 0), num(isoMinute, 0), num(isoSecond, 0)
	micro := 0
	if f := m[isoFraction]; f != "" {
		f = (f + "000000")[:6]
		micro, _ = strconv.Atoi(f)
	}
	if err := checkDateTime(year, month, day, hour, minute, second); err != nil {
		return time.Time{}, err
	}
	loc := time.UTC
	if m[isoZone] != "" && m[isoZone] != "Z" {
		offset := num(isoTZHour, 0)*3600 + num(isoTZMinute, 0)*60
		if offset >= 24*3600 {
			return time.Time{}, ValueError("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)")
		}
		if m[isoTZSign] == "-" {
			offset = -offset
		}
		loc = time.FixedZone(strings.TrimSpace(m[isoZone]), offset)
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, micro*1000, loc), nil
}

// checkDateTime applies datetime.datetime's range checks, with its messages.
func checkDateTime(year, month, day, hour, minute, second int) error {
	switch {
	case year < 1:
		return ValueError("year " + strconv.Itoa(year) + " is out of range")
	case month < 1 || month > 12:
		return ValueError("month must be in 1..12")
	case day < 1 || time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Day() != day:
		return ValueError("day is out of range for month")
	case hour > 23:
		return ValueError("hour must be in 0..23")
	case minute > 59:
		return ValueError("minute must be in 0..59")
	case second > 59:
		return ValueError("second must be in 0..59")
	}
	return nil
}
