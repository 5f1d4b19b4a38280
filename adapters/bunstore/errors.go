package bunstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/tapis-go/tapis/tenancy"
)

// SQLite extended result codes and PostgreSQL SQLSTATEs of the constraint
// violations the store translates.
const (
	sqliteConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
	pgUniqueViolation          = "23505"
	pgForeignKeyViolation      = "23503"
)

// violation is the kind of constraint a driver error reports.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// classify recognizes unique and foreign-key violations of both drivers:
// pgdriver's SQLSTATE, modernc's extended result code, and, for SQLite
// drivers without a Code method (mattn under -tags cgosqlite), SQLite's
// message text.
func classify(err error) violation {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		switch pgErr.Field('C') {
		case pgUniqueViolation:
			return uniqueViolation
		case pgForeignKeyViolation:
			return foreignKeyViolation
		}
		return noViolation
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch coded.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return uniqueViolation
		case sqliteConstraintForeignKey:
			return foreignKeyViolation
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"):
		return uniqueViolation
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return foreignKeyViolation
	}
	return noViolation
}

// storeErr translates a driver error of an operation on what (a table or
// record name) into the domain sentinels:
//
//	sql.ErrNoRows               -> tenancy.ErrNotFound
//	unique / primary key        -> tenancy.ErrAlreadyExists
//	foreign key                 -> onForeignKey (ErrNotFound on insert and
//	                               update: a referenced row is missing;
//	                               ErrInUse on delete: a row still refers)
//
// Sentinel errors carry no driver text (it can quote stored values); other
// errors are wrapped as they are. An error that already is a sentinel (one
// of those three, or any the store made with sentinel) passes through.
func storeErr(err error, what string, onForeignKey error) error {
	var made *sentinelError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tenancy.ErrNotFound), errors.Is(err, tenancy.ErrAlreadyExists), errors.Is(err, tenancy.ErrInUse),
		errors.As(err, &made):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("bunstore: %s: %w", what, tenancy.ErrNotFound)
	}
	switch classify(err) {
	case uniqueViolation:
		return fmt.Errorf("bunstore: %s: %w", what, tenancy.ErrAlreadyExists)
	case foreignKeyViolation:
		return fmt.Errorf("bunstore: %s: %w", what, onForeignKey)
	}
	return fmt.Errorf("bunstore: %s: %w", what, err)
}

// writeErr translates the error of an insert or update.
func writeErr(err error, what string) error { return storeErr(err, what, tenancy.ErrNotFound) }

// deleteErr translates the error of a delete.
func deleteErr(err error, what string) error { return storeErr(err, what, tenancy.ErrInUse) }

// readErr translates the error of a read.
func readErr(err error, what string) error { return storeErr(err, what, tenancy.ErrNotFound) }

// sentinelError is a domain sentinel the store answers, with the operation
// it concerns.
type sentinelError struct {
	what string
	kind error
}

func (e *sentinelError) Error() string { return "bunstore: " + e.what + ": " + e.kind.Error() }
func (e *sentinelError) Unwrap() error { return e.kind }

// sentinel returns kind wrapped with the operation it concerns.
func sentinel(kind error, what string) error { return &sentinelError{what: what, kind: kind} }
