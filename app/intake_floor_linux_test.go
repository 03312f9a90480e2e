package app_test

import (
	"os"
	"syscall"
)

// syncData makes f's written data durable without its metadata (fdatasync(2), as bbolt
// syncs on Linux).
func syncData(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
