//go:build !linux

package fstest

import "testing"

// Tmpfs skips the test: mounting a tmpfs is Linux's.
func Tmpfs(t testing.TB, _ int) string {
	t.Helper()
	t.Skip("tmpfs needs Linux")
	return ""
}

// Fill is never reached without Tmpfs.
func Fill(t testing.TB, _ string) func() {
	t.Helper()
	t.Skip("tmpfs needs Linux")
	return func() {}
}

// ReadOnly is never reached without Tmpfs.
func ReadOnly(t testing.TB, _ string) {
	t.Helper()
	t.Skip("tmpfs needs Linux")
}
