package cluster

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// MemoryFeed is a Feed within one process: PublishChange calls every
// subscription's fn before it returns. The zero value is ready to use.
type MemoryFeed struct {
	mu   sync.Mutex // held while fns run: one call at a time, in order
	seq  int64
	next int
	subs map[int]func(Change)
}

var _ Feed = (*MemoryFeed)(nil)

// PublishChange implements Feed.
func (f *MemoryFeed) PublishChange(_ context.Context, c Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	c.Seq = f.seq
	for _, fn := range f.subs {
		fn(c)
	}
	return nil
}

// SubscribeChanges implements Feed.
func (f *MemoryFeed) SubscribeChanges(fn func(Change)) (stop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]func(Change){}
	}
	id := f.next
	f.next++
	f.subs[id] = fn
	return func() {
		f.mu.Lock()
		delete(f.subs, id)
		f.mu.Unlock()
	}
}

// PurgeChanges implements Feed: nothing is kept.
func (f *MemoryFeed) PurgeChanges(context.Context, time.Time) (int, error) { return 0, nil }

// MemoryLocker is a Locker within one process. The zero value is ready to
// use.
type MemoryLocker struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

var _ Locker = (*MemoryLocker)(nil)

func (l *MemoryLocker) slot(name string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locks == nil {
		l.locks = map[string]chan struct{}{}
	}
	c := l.locks[name]
	if c == nil {
		c = make(chan struct{}, 1)
		l.locks[name] = c
	}
	return c
}

func release(c chan struct{}) func() {
	var once sync.Once
	return func() { once.Do(func() { <-c }) }
}

// Lock implements Locker.
func (l *MemoryLocker) Lock(ctx context.Context, name string) (func(), error) {
	c := l.slot(name)
	select {
	case c <- struct{}{}:
		return release(c), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TryLock implements Locker.
func (l *MemoryLocker) TryLock(_ context.Context, name string) (func(), bool, error) {
	c := l.slot(name)
	select {
	case c <- struct{}{}:
		return release(c), true, nil
	default:
		return nil, false, nil
	}
}

// MemoryCanary is a CanaryStore within one process; it holds no other
// sealed data. The zero value is ready to use.
type MemoryCanary struct {
	mu     sync.Mutex
	canary []byte
}

var _ CanaryStore = (*MemoryCanary)(nil)

// KEKCanary implements CanaryStore.
func (m *MemoryCanary) KEKCanary(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.canary), nil
}

// SwapKEKCanary implements CanaryStore.
func (m *MemoryCanary) SwapKEKCanary(_ context.Context, old, next []byte) ([]byte, error) {
	if len(next) == 0 {
		return nil, ErrEmptyCanary
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if (old == nil && m.canary == nil) || (old != nil && m.canary != nil && bytes.Equal(old, m.canary)) {
		m.canary = bytes.Clone(next)
	}
	return bytes.Clone(m.canary), nil
}

// HoldsSealedData implements CanaryStore: true once a canary is stored.
func (m *MemoryCanary) HoldsSealedData(context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.canary != nil, nil
}
