// Package search turns the three Tapis search syntaxes into one expression
// tree (AST) over an allowlist of attributes, evaluates that tree in memory
// and translates it into a parameterised SQL fragment for SQLite and
// PostgreSQL. It also parses the list options that go with a search: select,
// orderBy, limit, skip, startAfter and the lenient boolean flags
// (computeTotal, showDeleted).
//
// The three syntaxes:
//
//   - ParseQuery: the search query parameter of a list,
//     search=(port.lt.7)~(owner.eq.jdoe), conditions ANDed;
//   - ParseParams: GET /search, one condition per query parameter,
//     port.lt=7&owner.eq=jdoe, ANDed;
//   - ParseSQL: POST /search bodies, SQL-like text with AND, OR,
//     parentheses, =, <>, LIKE, BETWEEN, IN and their negations.
//
// Every parser resolves attribute names against a Schema (the allowlist: an
// attribute that is not in it is "not searchable"), checks each operator
// against the attribute's type and converts each value to its Go type, so a
// tree that parsed is valid: Eval and ToSQL never fail. Every mistake in the
// input is an *Error (it matches ErrInvalid under errors.Is), meant to be
// answered with 400 and its message.
//
// # Semantics shared by Eval and ToSQL
//
// Text comparisons are case-sensitive and ordered by bytes (UTF-8 code
// points): Go string comparison, SQLite's BINARY collation, PostgreSQL's
// COLLATE "C". LIKE patterns are case-sensitive too: on SQLite they become
// GLOB patterns (SQLite's LIKE ignores ASCII case), on PostgreSQL LIKE with
// ESCAPE '\'. '_' (and '!' in the query-string syntax) matches exactly one
// character, not one byte.
//
// A NULL field (a Row answering nil, or a value of the wrong Go type) matches
// no condition at all, negated ones included: port.neq.7, nlike, nin,
// nbetween and ncontains are false on NULL, as SQL's three-valued logic makes
// them in a WHERE clause (the tree has no NOT node, so "unknown" and "false"
// never need to be told apart). A Tags field that is an empty or nil []string
// is an empty list, not NULL: ncontains is true on it.
//
// Timestamps are compared at microsecond precision in UTC, the precision both
// databases store.
package search
