// Package fstest is test support for the file-system bank: a real, small
// file system (a tmpfs mounted for the test) and a way to fill it, so that
// tests see the ENOSPC a full bank gives.
package fstest
