package bunstore

import (
	"context"

	"github.com/tapis-go/tapis/cluster"
)

// SQLiteTimeFormat exports, to the external tests, the text form of a time
// on SQLite (rows the tests write by hand must hold what bun writes).
const SQLiteTimeFormat = sqliteTimeFormat

// SubscribeAt subscribes st to the changes after number last, as a
// subscription that has read up to last would.
func SubscribeAt(st *Store, last int64, fn func(cluster.Change)) (stop func()) {
	return st.subscribe(context.Background(), last, false, fn)
}
