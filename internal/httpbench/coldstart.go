package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tapis-go/tapis/internal/serverbin"
)

// measureColdStart builds examples/server and times, from exec to the first
// 200 of GET /v3/tokens/ready, its start with -dev on an empty data
// directory and on the one that start left, beside a plain start (no -dev)
// in the same two situations. Each figure is the median of reps starts.
func measureColdStart(ctx context.Context, t *table, reps int) error {
	tmp, err := os.MkdirTemp("", "httpbench-start-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root, err := serverbin.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	bin := filepath.Join(tmp, "tapis-server")
	if err := serverbin.Build(ctx, root, bin); err != nil {
		return err
	}
	times := map[string][]time.Duration{}
	for i := range reps {
		for _, mode := range []string{"plain", "dev"} {
			data := filepath.Join(tmp, fmt.Sprintf("%s-%d", mode, i))
			var args []string
			if mode == "dev" {
				args = []string{"-dev"}
			}
			for _, state := range []string{"empty", "existing"} {
				d, err := timeStart(ctx, bin, data, args...)
				if err != nil {
					return fmt.Errorf("%s start on %s data: %w", mode, state, err)
				}
				times[mode+" "+state] = append(times[mode+" "+state], d)
			}
		}
	}
	med := func(k string) time.Duration {
		s := slices.Clone(times[k])
		slices.Sort(s)
		return s[len(s)/2]
	}
	for _, state := range []string{"empty", "existing"} {
		dev, plain := med("dev "+state), med("plain "+state)
		t.add(fmt.Sprintf("cold start of examples/server -dev, %s data (median of %d)", state, reps),
			fmt.Sprintf("%.2f s", dev.Seconds()), fmt.Sprintf("plain start %.2f s", plain.Seconds()),
			fmt.Sprintf("%.1fx", float64(dev)/float64(plain)), "≤ 0.5 s")
	}
	return nil
}

// timeStart runs the server on a free port with -data dir and returns how
// long it took until GET /v3/tokens/ready answered 200; then it stops it
// with SIGTERM and waits for it.
func timeStart(ctx context.Context, bin, dir string, args ...string) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-addr", addr, "-data", dir, "-log-level", "warn"}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	c := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return 0, fmt.Errorf("the server exited: %v: %s", err, out.String())
		default:
		}
		if time.Since(began) > 30*time.Second {
			stop()
			return 0, fmt.Errorf("not ready after 30s: %s", out.String())
		}
		resp, err := c.Get("http://" + addr + "/v3/tokens/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				d := time.Since(began)
				stop()
				return d, nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}
