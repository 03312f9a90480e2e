//go:build !linux

package app_test

import "os"

// syncData makes f's written data durable (fsync(2): fdatasync is Linux's).
func syncData(f *os.File) error { return f.Sync() }
