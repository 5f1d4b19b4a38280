package clustere2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bounds of the load, counted in answers: opsBeforeKill before the kill,
// opsWhileDown while the killed instance is down (the proxy still sends it
// every third request), then opsAfterRestart once it is ready again.
const (
	workers         = 4
	opsBeforeKill   = 500
	opsWhileDown    = 200
	opsAfterRestart = 500
	loadCap         = 45 * time.Second // a stuck load fails instead of hanging
)

// sysRec is an acknowledged system create and what its description must
// be: the last acknowledged PATCH, or one attempted after it whose answer
// was lost with the killed instance.
type sysRec struct {
	owner   string
	acked   string
	pending []string
}

// ledger records every acknowledged write and every answer of the load.
type ledger struct {
	mu         sync.Mutex
	systems    map[string]*sysRec
	order      map[int][]string // worker -> its acknowledged systems in order
	perms      map[[2]string]bool
	shares     map[[2]string]bool
	stats      map[string]map[int]int // operation -> status -> count
	proxyErrs  map[string]int         // operation -> proxy 502s
	unexpected []string
	ops        atomic.Int64
}

func newLedger() *ledger {
	return &ledger{systems: map[string]*sysRec{}, order: map[int][]string{}, perms: map[[2]string]bool{},
		shares: map[[2]string]bool{}, stats: map[string]map[int]int{}, proxyErrs: map[string]int{}}
}

// answer records r for op and reports whether it is the expected success.
// A proxy 502 (the backend unreachable) is counted apart; anything else is
// unexpected.
func (l *ledger) answer(op string, want int, r reply) bool {
	l.ops.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case r.Err != nil:
		l.unexpected = append(l.unexpected, fmt.Sprintf("%s: %v", op, r.Err))
	case r.ProxyError:
		l.proxyErrs[op]++
	default:
		if l.stats[op] == nil {
			l.stats[op] = map[int]int{}
		}
		l.stats[op][r.Code]++
		if r.Code != want {
			l.unexpected = append(l.unexpected, fmt.Sprintf("%s: want %d, got %s", op, want, r))
		}
	}
	return r.Err == nil && r.Code == want
}

// worker is one client of the proxy, acting as one user.
type worker struct {
	c       *cluster
	l       *ledger
	id      int
	user    string
	token   string
	refresh string
	others  []string
}

func sysBody(id, desc string) map[string]any {
	return map[string]any{"id": id, "systemType": "LINUX", "host": "login.example.org", "defaultAuthnMethod": "PKI_KEYS",
		"canExec": false, "rootDir": "/home/${apiUserId}", "description": desc}
}

func (w *worker) prefix() string { return fmt.Sprintf("w%ds", w.id) }

// own picks one of the worker's acknowledged systems, or "".
func (w *worker) own(i int) string {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	ids := w.l.order[w.id]
	if len(ids) == 0 {
		return ""
	}
	return ids[(i*7)%len(ids)]
}

// step runs operation i of the mix.
func (w *worker) step(ctx context.Context, i int) {
	base := w.c.proxy.srv.URL
	sys := w.own(i)
	op := i % 8
	if sys == "" && op >= 2 && op <= 6 && op != 4 {
		op = 0
	}
	switch op {
	case 0, 1:
		id := fmt.Sprintf("%s%d", w.prefix(), i)
		if w.l.answer("create system", http.StatusCreated, call(ctx, http.MethodPost, base+"/v3/systems", w.token, sysBody(id, "d0"))) {
			w.l.mu.Lock()
			w.l.systems[id] = &sysRec{owner: w.user, acked: "d0"}
			w.l.order[w.id] = append(w.l.order[w.id], id)
			w.l.mu.Unlock()
		}
	case 2, 3:
		desc := fmt.Sprintf("%s-p%d", sys, i)
		r := call(ctx, http.MethodPatch, base+"/v3/systems/"+sys, w.token, map[string]any{"description": desc})
		ok := w.l.answer("patch system", http.StatusOK, r)
		w.l.mu.Lock()
		rec := w.l.systems[sys]
		if ok {
			rec.acked, rec.pending = desc, nil
		} else {
			rec.pending = append(rec.pending, desc)
		}
		w.l.mu.Unlock()
	case 4:
		w.l.mu.Lock()
		acked := slices.Clone(w.l.order[w.id])
		w.l.mu.Unlock()
		q := url.Values{"search": {"(id.like." + w.prefix() + "*)"}, "listType": {"OWNED"}, "select": {"id"}, "limit": {"5000"}}
		r := call(ctx, http.MethodGet, base+"/v3/systems?"+q.Encode(), w.token, nil)
		if w.l.answer("search systems", http.StatusOK, r) {
			var got []struct {
				ID string `json:"id"`
			}
			err := r.Result(&got)
			seen := map[string]bool{}
			for _, s := range got {
				seen[s.ID] = true
			}
			for _, id := range acked {
				if err != nil || !seen[id] {
					w.l.mu.Lock()
					w.l.unexpected = append(w.l.unexpected, fmt.Sprintf("search: acknowledged %s missing (%v): %s", id, err, r))
					w.l.mu.Unlock()
					break
				}
			}
		}
	case 5:
		to := w.others[i%len(w.others)]
		r := call(ctx, http.MethodPost, base+"/v3/systems/perms/"+sys+"/user/"+to, w.token, map[string]any{"permissions": []string{"READ", "MODIFY"}})
		if w.l.answer("grant perms", http.StatusOK, r) {
			w.l.mu.Lock()
			w.l.perms[[2]string{sys, to}] = true
			w.l.mu.Unlock()
		}
	case 6:
		to := w.others[(i+1)%len(w.others)]
		r := call(ctx, http.MethodPost, base+"/v3/systems/share/"+sys, w.token, map[string]any{"users": []string{to}})
		if w.l.answer("share system", http.StatusOK, r) {
			w.l.mu.Lock()
			w.l.shares[[2]string{sys, to}] = true
			w.l.mu.Unlock()
		}
	case 7:
		if i%16 == 7 {
			r := passwordGrant(ctx, base, w.user, w.user)
			if w.l.answer("password grant", http.StatusCreated, r) {
				var p tokenPair
				if r.Result(&p) == nil && p.AccessToken.AccessToken != "" {
					w.token = p.AccessToken.AccessToken
				}
			}
			return
		}
		r := call(ctx, http.MethodPut, base+"/v3/tokens", "", map[string]any{"refresh_token": w.refresh})
		if w.l.answer("refresh", http.StatusCreated, r) {
			var p tokenPair
			if r.Result(&p) == nil && p.AccessToken.AccessToken != "" {
				w.token = p.AccessToken.AccessToken
				if p.RefreshToken.RefreshToken != "" {
					w.refresh = p.RefreshToken.RefreshToken
				}
			}
		}
	}
}

// newWorker logs user in through the proxy (password grant) and gets a
// refresh token for it.
func (c *cluster) newWorker(t *testing.T, l *ledger, id int) *worker {
	t.Helper()
	ctx := context.Background()
	w := &worker{c: c, l: l, id: id, user: fmt.Sprintf("testuser%d", id+1)}
	for j := range workers {
		if j != id {
			w.others = append(w.others, fmt.Sprintf("testuser%d", j+1))
		}
	}
	r := passwordGrant(ctx, c.proxy.srv.URL, w.user, w.user)
	require.Equal(t, http.StatusCreated, r.Code, "login of %s: %s", w.user, r)
	w.token = accessToken(t, r)
	r = c.userToken(ctx, c.proxy.srv.URL, w.user, true)
	require.Equal(t, http.StatusCreated, r.Code, "refresh token of %s: %s", w.user, r)
	var p tokenPair
	require.NoError(t, r.Result(&p))
	require.NotEmpty(t, p.RefreshToken.RefreshToken, "no refresh token: %s", r)
	w.refresh = p.RefreshToken.RefreshToken
	return w
}

// loadWithKill drives the mixed load through the proxy, kills the third
// instance with SIGKILL after opsBeforeKill answers, restarts it with the
// same flags opsWhileDown answers later, and stops opsAfterRestart answers
// after it is ready again.
// Then every acknowledged write is read back through each instance.
func (c *cluster) loadWithKill(t *testing.T) {
	l := newLedger()
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = c.newWorker(t, l, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), loadCap)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	began := time.Now()
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				w.step(ctx, i)
			}
		}()
	}
	waitOps := func(n int64) bool {
		for l.ops.Load() < n {
			if ctx.Err() != nil {
				return false
			}
			time.Sleep(10 * time.Millisecond)
		}
		return true
	}
	victim := c.nodes[2]
	var killedAt, restartAt, readyAt time.Time
	var restartErr error
	if waitOps(opsBeforeKill) {
		killedAt = time.Now()
		victim.kill()
		waitOps(l.ops.Load() + opsWhileDown)
		restartAt = time.Now()
		victim.start()
		restartErr = victim.waitReady(30 * time.Second)
		readyAt = time.Now()
		waitOps(l.ops.Load() + opsAfterRestart)
	}
	close(stop)
	wg.Wait()
	elapsed := time.Since(began)
	require.NoError(t, ctx.Err(), "the load did not reach its counts within %v (%d answers)", loadCap, l.ops.Load())
	require.NoError(t, restartErr, "the killed instance did not come back")

	conns := c.proxy.connErrors()
	var afterReady, refused int
	for _, e := range conns {
		if strings.Contains(e.Err, "connection refused") {
			refused++ // sent while the instance was down; else cut in flight by the kill
		}
		assert.Equal(t, 2, e.Backend, "a connection error to an instance that was not killed: %+v", e)
		assert.False(t, e.At.Before(killedAt), "a connection error before the kill: %+v", e)
		if e.At.After(readyAt) {
			afterReady++
		}
	}
	t.Logf("figures: load %d answers in %v by %d workers; %s killed for %v, then ready %v after its restart; proxy connection errors %d (%d refused while down, %d cut in flight; %d after the restart was ready); sent per instance %d/%d/%d",
		l.ops.Load(), elapsed.Round(time.Millisecond), workers, victim.name, restartAt.Sub(killedAt).Round(time.Millisecond),
		readyAt.Sub(restartAt).Round(time.Millisecond), len(conns), refused, len(conns)-refused, afterReady,
		c.proxy.sent[0].Load(), c.proxy.sent[1].Load(), c.proxy.sent[2].Load())
	t.Logf("figures: answers by operation and status: %s", l.statsLine())
	assert.Empty(t, l.unexpected, "answers other than the expected success or the proxy's 502 for the killed instance")
	l.mu.Lock()
	proxied := 0
	for _, n := range l.proxyErrs {
		proxied += n
	}
	l.mu.Unlock()
	assert.Equal(t, len(conns), proxied, "every 502 the workers saw is one the proxy recorded")

	c.readBack(t, l, ws)
}

func (l *ledger) statsLine() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := make([]string, 0, len(l.stats)+len(l.proxyErrs))
	for op := range l.stats {
		ops = append(ops, op)
	}
	for op := range l.proxyErrs {
		if l.stats[op] == nil {
			ops = append(ops, op)
		}
	}
	sort.Strings(ops)
	var parts []string
	for _, op := range ops {
		var codes []string
		for code, n := range l.stats[op] {
			codes = append(codes, fmt.Sprintf("%d x%d", code, n))
		}
		if n := l.proxyErrs[op]; n > 0 {
			codes = append(codes, fmt.Sprintf("proxy-502 x%d", n))
		}
		sort.Strings(codes)
		parts = append(parts, op+" ["+strings.Join(codes, ", ")+"]")
	}
	return strings.Join(parts, "; ")
}

// readBack reads every acknowledged write through each instance directly.
func (c *cluster) readBack(t *testing.T, l *ledger, ws []*worker) {
	ctx := context.Background()
	l.mu.Lock()
	defer l.mu.Unlock()
	require.NotEmpty(t, l.systems, "the load acknowledged no create")
	checked, unacked, landed := 0, 0, 0
	for _, n := range c.nodes {
		for _, w := range ws {
			q := url.Values{"search": {"(id.like." + w.prefix() + "*)"}, "listType": {"OWNED"}, "select": {"id,description"}, "limit": {"5000"}}
			r := call(ctx, http.MethodGet, n.base+"/v3/systems?"+q.Encode(), w.token, nil)
			require.Equal(t, http.StatusOK, r.Code, "%s: %s", n.name, r)
			var got []struct {
				ID          string `json:"id"`
				Description string `json:"description"`
			}
			require.NoError(t, r.Result(&got))
			desc := map[string]string{}
			for _, s := range got {
				desc[s.ID] = s.Description
			}
			for _, id := range l.order[w.id] {
				rec := l.systems[id]
				d, ok := desc[id]
				if !assert.True(t, ok, "%s lost the acknowledged create of %s", n.name, id) {
					continue
				}
				assert.Contains(t, append([]string{rec.acked}, rec.pending...), d,
					"%s: %s has a description no acknowledged PATCH left", n.name, id)
				if n == c.nodes[0] && len(rec.pending) > 0 {
					unacked++
					if d != rec.acked {
						landed++
					}
				}
				checked++
			}
		}
		for k := range l.perms {
			owner := l.systems[k[0]].owner
			r := call(ctx, http.MethodGet, n.base+"/v3/systems/perms/"+k[0]+"/user/"+k[1], tokenOf(ws, owner), nil)
			require.Equal(t, http.StatusOK, r.Code, "%s: %s", n.name, r)
			var got struct {
				Names []string `json:"names"`
			}
			require.NoError(t, r.Result(&got))
			assert.Subset(t, got.Names, []string{"READ", "MODIFY"}, "%s lost the grant of %s to %s", n.name, k[0], k[1])
			checked++
		}
		shared := map[string][]string{}
		for k := range l.shares {
			shared[k[0]] = append(shared[k[0]], k[1])
		}
		for id, users := range shared {
			r := call(ctx, http.MethodGet, n.base+"/v3/systems/share/"+id, tokenOf(ws, l.systems[id].owner), nil)
			require.Equal(t, http.StatusOK, r.Code, "%s: %s", n.name, r)
			var got struct {
				UserList []string `json:"userList"`
			}
			require.NoError(t, r.Result(&got))
			assert.Subset(t, got.UserList, users, "%s lost shares of %s", n.name, id)
			checked++
		}
	}
	t.Logf("figures: acknowledged writes: %d creates, %d grants, %d shares; %d read-backs through the 3 instances; "+
		"%d systems whose last PATCH lost its answer (%d of those PATCHes applied nevertheless)",
		len(l.systems), len(l.perms), len(l.shares), checked, unacked, landed)
}

func tokenOf(ws []*worker, user string) string {
	for _, w := range ws {
		if w.user == user {
			return w.token
		}
	}
	return ""
}
