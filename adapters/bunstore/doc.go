// Package bunstore implements the library's stores on SQL databases through
// github.com/uptrace/bun: SQLite (the default; pure Go, no CGO, through bun's
// sqliteshim) and PostgreSQL (through pgdriver).
//
// One *Store provides every part of a tapis.Store: tenancy.Store,
// oauth2.Store, oauth2.AuthStore, oauth2.AttemptStore, systems.Store,
// systems.AccessStore, hostcheck.HostKeys and credentials.Auditor, plus the
// parts it seals with the KEK through the sealer it is given (Vault,
// GlobusSessions, RewrapCredentials). Open connects by DSN
// ("sqlite:PATH", "sqlite::memory:", "postgres://..."), New wraps an existing
// *bun.DB, and Migrate applies the embedded, versioned schema of the dialect
// (migrations/sqlite, migrations/postgres), recording each applied version in
// the schema_migrations table.
//
// The row structs with bun tags live here only; domain types stay free of
// storage concerns. Driver errors are translated into the domain sentinels
// (tenancy.ErrNotFound, tenancy.ErrAlreadyExists, tenancy.ErrInUse), and
// every query on a tenant-scoped table names the tenant in its WHERE clause.
//
// What differs between the two databases is one flavor value (flavor.go),
// chosen in New: placeholders, the row lock of a read-modify-write, named
// locks, JSON list conditions, the search dialect, time arguments,
// migrations. Every transaction runs through txn, and every
// read-modify-write of one row through update (txn.go).
//
// Both dialects store the same values: timestamps in UTC with microsecond
// precision (TIMESTAMPTZ on PostgreSQL, sortable text on SQLite), string
// lists and tenant history changes as JSON text, and key columns compared
// byte-wise (COLLATE "C" on PostgreSQL, SQLite's default BINARY), so lists
// come back in the same order from either database.
package bunstore
