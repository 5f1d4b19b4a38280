package bunstore

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/tapis-go/tapis/cluster"
)

var _ cluster.Feed = (*Store)(nil)

// changeRow is a row of change_log (migration 0010).
type changeRow struct {
	bun.BaseModel `bun:"table:change_log,alias:cl"`

	Seq     int64     `bun:"seq,pk,autoincrement"`
	Kind    string    `bun:"kind"`
	Tenant  string    `bun:"tenant"`
	Key     string    `bun:"key"`
	Created time.Time `bun:"created"`
}

// changeBatch bounds the rows one read of the change log returns.
const changeBatch = 256

// PublishChange implements cluster.Feed: it appends c to the change log
// and, where the database can, notifies the schema's channel in the same
// transaction (delivered when it commits). Publishers take a transaction
// lock (SQLite's write transactions are exclusive anyway), so the numbers
// commit in order and a reader never skips one that commits later.
func (s *Store) PublishChange(ctx context.Context, c cluster.Change) error {
	return s.txn(ctx, "publish change", writeErr, func(ctx context.Context, tx bun.Tx) error {
		if err := s.fl.lockName(ctx, tx, "tapis-go/bunstore:changes"); err != nil {
			return err
		}
		row := &changeRow{Kind: c.Kind, Tenant: c.Tenant, Key: c.Key, Created: utc(time.Now())}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		if s.fl.changeChannel != "" {
			if _, err := tx.ExecContext(ctx, "SELECT pg_notify("+s.fl.changeChannel+", '')"); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeChanges implements cluster.Feed. The newest change is kept, so that
// a subscription's position (the newest number) survives a purge of every
// row.
func (s *Store) PurgeChanges(ctx context.Context, before time.Time) (int, error) {
	newest := s.db.NewSelect().Model((*changeRow)(nil)).ColumnExpr("max(seq)")
	res, err := s.db.NewDelete().Model((*changeRow)(nil)).Where("created < ?", utc(before)).
		Where("seq < (?)", newest).Exec(ctx)
	if err != nil {
		return 0, deleteErr(err, "purge changes")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// lastChange is the number of the newest change in the log (0: none).
func (s *Store) lastChange(ctx context.Context) (int64, error) {
	var last sql.NullInt64
	err := s.db.NewSelect().Model((*changeRow)(nil)).ColumnExpr("max(seq)").Scan(ctx, &last)
	return last.Int64, err
}

// subscriptions are a Store's live change subscriptions, stopped by Close.
type subscriptions struct {
	mu   sync.Mutex
	next int
	live map[int]func()
}

func (ss *subscriptions) add(stop func()) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.live == nil {
		ss.live = map[int]func(){}
	}
	ss.next++
	ss.live[ss.next] = stop
	return ss.next
}

func (ss *subscriptions) remove(id int) {
	ss.mu.Lock()
	delete(ss.live, id)
	ss.mu.Unlock()
}

// stopAll stops every live subscription.
func (ss *subscriptions) stopAll() {
	ss.mu.Lock()
	stops := make([]func(), 0, len(ss.live))
	for _, stop := range ss.live {
		stops = append(stops, stop)
	}
	ss.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// subscription is one SubscribeChanges: a goroutine reading the change log
// after last, woken by the flavor's poll interval and, on PostgreSQL, by
// the channel's notifications.
type subscription struct {
	s    *Store
	fn   func(cluster.Change)
	last int64
	// lost: the position is unknown (the store did not answer at
	// subscription); the first read that succeeds takes the newest number
	// as position and delivers a Resync.
	lost bool
	quit chan struct{}
	done chan struct{}
}

// SubscribeChanges implements cluster.Feed. Its position is the newest
// change when it is called (read within 5 seconds; a store that does not
// answer by then gets a Resync once it does). On PostgreSQL it also listens
// to the schema's notification channel through pgdriver's Listener (its own
// connection, reconnected when it breaks); the poll of the log every
// changePoll covers lost notifications and a broken listener.
func (s *Store) SubscribeChanges(fn func(cluster.Change)) (stop func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	last, err := s.lastChange(ctx)
	return s.subscribe(ctx, last, err != nil, fn)
}

// subscribe starts a subscription at position last (lost: unknown).
func (s *Store) subscribe(ctx context.Context, last int64, lost bool, fn func(cluster.Change)) (stop func()) {
	sub := &subscription{s: s, fn: fn, last: last, lost: lost, quit: make(chan struct{}), done: make(chan struct{})}
	ln, wake := s.listenChanges(ctx)
	go sub.run(wake)
	var once sync.Once
	var id int
	stop = func() {
		once.Do(func() {
			close(sub.quit)
			<-sub.done
			if ln != nil {
				_ = ln.Close()
			}
			s.subs.remove(id)
		})
	}
	id = s.subs.add(stop)
	return stop
}

// listenChanges listens to the change channel of the store's schema, where
// the database notifies and the driver is pgdriver; else (or when it
// fails) the subscription polls only.
func (s *Store) listenChanges(ctx context.Context) (*pgdriver.Listener, <-chan pgdriver.Notification) {
	if s.fl.changeChannel == "" {
		return nil, nil
	}
	if _, ok := s.db.Driver().(pgdriver.Driver); !ok {
		return nil, nil
	}
	var channel string
	if err := s.db.NewRaw("SELECT "+s.fl.changeChannel).Scan(ctx, &channel); err != nil {
		return nil, nil
	}
	ln := pgdriver.NewListener(s.db)
	if err := ln.Listen(ctx, channel); err != nil {
		_ = ln.Close()
		return nil, nil
	}
	wake := ln.Channel()
	// Listen only sends LISTEN: a change notified before the server ran it
	// would be missed. A notification of our own coming back proves that
	// it runs; until then (at most ctx) the subscription is woken by its
	// poll alone.
	mark := "listening " + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := s.db.ExecContext(ctx, "SELECT pg_notify(?, ?)", channel, mark); err == nil {
		for {
			select {
			case n, ok := <-wake:
				if ok && n.Payload != mark {
					continue // another instance's change: the first poll reads it
				}
			case <-ctx.Done():
			}
			break
		}
	}
	return ln, wake
}

func (sub *subscription) run(wake <-chan pgdriver.Notification) {
	defer close(sub.done)
	tick := time.NewTicker(sub.s.fl.changePoll)
	defer tick.Stop()
	sub.poll() // what was published while the listener started
	for {
		select {
		case <-sub.quit:
			return
		case <-tick.C:
		case _, ok := <-wake:
			if !ok {
				wake = nil // listener closed: poll only
			}
		}
		sub.poll()
	}
}

// poll delivers every change after sub.last. A number missing between two
// it reads (purged before it read them, or a publication that failed after
// taking its number) means it cannot tell what it missed: a Resync first.
func (sub *subscription) poll() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if sub.lost {
		last, err := sub.s.lastChange(ctx)
		if err != nil {
			return
		}
		sub.last, sub.lost = last, false
		sub.fn(cluster.Change{Kind: cluster.Resync})
		return
	}
	for {
		var rows []changeRow
		err := sub.s.db.NewSelect().Model(&rows).Where("seq > ?", sub.last).Order("seq").Limit(changeBatch).Scan(ctx)
		if err != nil {
			return // the next tick tries again from the same position
		}
		for i, r := range rows {
			if i == 0 && r.Seq != sub.last+1 {
				sub.fn(cluster.Change{Seq: r.Seq, Kind: cluster.Resync})
			} else if i > 0 && r.Seq != rows[i-1].Seq+1 {
				sub.fn(cluster.Change{Seq: r.Seq, Kind: cluster.Resync})
			}
			sub.fn(cluster.Change{Seq: r.Seq, Kind: r.Kind, Tenant: r.Tenant, Key: r.Key})
			sub.last = r.Seq
		}
		if len(rows) < changeBatch {
			return
		}
		select {
		case <-sub.quit:
			return
		default:
		}
	}
}
