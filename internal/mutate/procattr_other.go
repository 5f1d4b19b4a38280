//go:build unix && !linux

package main

import "syscall"

// testProcAttr puts go test in its own process group, so that Ctrl-C
// reaches this program, which kills the whole group and restores the tree.
func testProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
