package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// request is one HTTP call the load generator repeats. next, when set,
// returns the path of the i-th call (to rotate over several systems).
type request struct {
	method  string
	path    string
	next    func(i int) string
	body    []byte
	headers map[string]string
}

// client is a keep-alive HTTP client for one target with room for conns
// parallel connections.
func client(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// do sends one request and reads the whole answer; any status but want is
// an error naming the status and the start of the body.
func do(ctx context.Context, c *http.Client, base string, r request, i int, want int) error {
	path := r.path
	if r.next != nil {
		path = r.next(i)
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+path, body)
	if err != nil {
		return err
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s %s: status %d (want %d): %s", r.method, path, resp.StatusCode, want, b)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// fetch returns the status, Content-Type and body of one call.
func fetch(ctx context.Context, base string, r request) (int, string, []byte, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, body)
	if err != nil {
		return 0, "", nil, err
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, err
}

// result is what one load run measured.
type result struct {
	n       int64
	elapsed time.Duration
	lat     []time.Duration // every call's latency
}

func (r result) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

// quantile of the latencies (0 when none).
func (r result) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// merge adds another run's calls (rounds of the same measurement).
func (r result) merge(o result) result {
	return result{n: r.n + o.n, elapsed: r.elapsed + o.elapsed, lat: append(r.lat, o.lat...)}
}

// load runs conns keep-alive clients against base for d, each sending r
// again as soon as its previous answer is read (closed loop), and returns
// how many calls completed and their latencies. The first failed call
// stops the run and is returned.
func load(ctx context.Context, base string, r request, conns int, d time.Duration, want int) (result, error) {
	c := client(conns)
	defer c.CloseIdleConnections()
	// Open the connections before the clock starts.
	if err := warm(ctx, c, base, r, conns, want); err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		count    atomic.Int64
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1024)
			for i := w; time.Now().Before(deadline); i += conns {
				t0 := time.Now()
				if err := do(ctx, c, base, r, i, want); err != nil {
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					break
				}
				lat = append(lat, time.Since(t0))
				count.Add(1)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	return result{n: count.Load(), elapsed: time.Since(start), lat: all}, nil
}

// warm sends conns calls at once (so that every connection is open) and a
// few more.
func warm(ctx context.Context, c *http.Client, base string, r request, conns, want int) error {
	var wg sync.WaitGroup
	errs := make([]error, conns)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 {
				if err := do(ctx, c, base, r, w+i*conns, want); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// paired runs the subject and its baseline in alternation, rounds times
// each, d/(2*rounds) per run, so that both see the same machine; it returns
// the merged results of each.
func paired(ctx context.Context, subject, baseline func(time.Duration) (result, error), d time.Duration, rounds int) (sub, base result, err error) {
	part := d / time.Duration(2*rounds)
	for range rounds {
		b, err := baseline(part)
		if err != nil {
			return sub, base, fmt.Errorf("baseline: %w", err)
		}
		s, err := subject(part)
		if err != nil {
			return sub, base, err
		}
		base, sub = base.merge(b), sub.merge(s)
	}
	return sub, base, ctx.Err()
}

// timed calls op for d, one call at a time, and returns the latencies.
func timed(d time.Duration, op func() error) (result, error) {
	var r result
	start := time.Now()
	for time.Since(start) < d || r.n < 5 {
		t0 := time.Now()
		if err := op(); err != nil {
			return result{}, err
		}
		r.lat = append(r.lat, time.Since(t0))
		r.n++
	}
	r.elapsed = time.Since(start)
	return r, nil
}
