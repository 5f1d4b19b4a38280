package bunstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/tapis-go/tapis/cluster"
)

var _ cluster.Locker = (*Store)(nil)

// lockName is the form of a lock's name.
var lockNamePattern = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// lockRetry is how often a waiting Lock tries again.
const lockRetry = 50 * time.Millisecond

// locks is what a Store needs to lock: the path of its SQLite file (read
// once), or the locks of a database in memory, which only this process
// sees.
type locks struct {
	once   sync.Once
	path   string // "" in memory
	err    error
	memory cluster.MemoryLocker
}

// Lock implements cluster.Locker. On PostgreSQL the lock is a session
// advisory lock of a connection of the pool, kept out of the pool while
// held (its name includes the schema); on an SQLite file it is a write
// transaction (BEGIN IMMEDIATE) on a lock file beside the database,
// <file>.lock-<name>, which SQLite's own file locking makes exclusive
// across processes. Either dies with the process holding it. A database
// in memory has process-local locks. Names are 1 to 40 of a-z, 0-9 and -.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	unlock, _, err := s.lock(ctx, name, true)
	return unlock, err
}

// TryLock implements cluster.Locker (see Lock).
func (s *Store) TryLock(ctx context.Context, name string) (func(), bool, error) {
	return s.lock(ctx, name, false)
}

func (s *Store) lock(ctx context.Context, name string, wait bool) (func(), bool, error) {
	if !lockNamePattern.MatchString(name) {
		return nil, false, fmt.Errorf("bunstore: lock name %q: want 1 to 40 of a-z, 0-9 and -", name)
	}
	try := s.tryAdvisory
	if s.fl.tryLock == "" {
		path, err := s.sqlitePath(ctx)
		if err != nil {
			return nil, false, err
		}
		if path == "" {
			if wait {
				unlock, err := s.locks.memory.Lock(ctx, name)
				return unlock, err == nil, err
			}
			return s.locks.memory.TryLock(ctx, name)
		}
		try = func(ctx context.Context, name string) (func(), bool, error) { return tryFileLock(ctx, path, name) }
	}
	for {
		unlock, held, err := try(ctx, name)
		if err != nil || held || !wait {
			return unlock, held, err
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(lockRetry):
		}
	}
}

// tryAdvisory takes the flavor's session lock on name with a connection it
// keeps until unlock.
func (s *Store) tryAdvisory(ctx context.Context, name string) (func(), bool, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("bunstore: lock %s: %w", name, err)
	}
	key := "tapis-go/lock:" + name
	var held bool
	if err := conn.NewRaw(s.fl.tryLock, key).Scan(ctx, &held); err != nil {
		discard(conn)
		return nil, false, fmt.Errorf("bunstore: lock %s: %w", name, err)
	}
	if !held {
		_ = conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var released bool
			if err := conn.NewRaw(s.fl.unlock, key).Scan(ctx, &released); err != nil || !released {
				discard(conn) // the session ends, and its locks with it
				return
			}
			_ = conn.Close()
		})
	}, true, nil
}

// discard closes conn's session instead of returning it to the pool.
func discard(conn bun.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// sqlitePath is the file of the store's SQLite database ("" in memory).
func (s *Store) sqlitePath(ctx context.Context) (string, error) {
	s.locks.once.Do(func() {
		rows, err := s.db.QueryContext(ctx, "PRAGMA database_list")
		if err != nil {
			s.locks.err = err
			return
		}
		defer rows.Close()
		for rows.Next() {
			var seq int
			var name, file string
			if err := rows.Scan(&seq, &name, &file); err != nil {
				s.locks.err = err
				return
			}
			if name == "main" {
				s.locks.path = file
			}
		}
		s.locks.err = rows.Err()
	})
	if s.locks.err != nil {
		return "", fmt.Errorf("bunstore: database file: %w", s.locks.err)
	}
	return s.locks.path, nil
}

// tryFileLock begins a write transaction on the lock file of name beside
// the database at path: SQLITE_BUSY means another connection, of this
// process or another, holds it. Nothing is ever written to the file.
func tryFileLock(ctx context.Context, path, name string) (func(), bool, error) {
	db, err := sql.Open(sqliteshim.ShimName, path+".lock-"+name+
		"?_pragma=busy_timeout(0)&_pragma=journal_mode(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, false, fmt.Errorf("bunstore: lock %s: %w", name, err)
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		_ = db.Close()
		if isBusy(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("bunstore: lock %s: %w", name, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = tx.Rollback()
			_ = db.Close()
		})
	}, true, nil
}

// isBusy reports SQLite's "database is locked" (SQLITE_BUSY).
func isBusy(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code()&0xff == 5 // SQLITE_BUSY and its extended codes
	}
	return strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked")
}
