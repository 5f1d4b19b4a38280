// Package httpapi is the huma layer of the library: it maps the Tapis wire
// format (paths, operation ids, parameter names, JSON fields, the response
// envelope) to the domain services and back, and nothing more. Rules live in
// the domain packages; errors are translated to status codes in one table
// (errors.go); the token middleware (auth.go) turns X-Tapis-Token and the
// on-behalf-of headers into a tenancy.Principal.
//
// Register adds every operation to a caller's huma.API; NewHandler builds a
// stand-alone http.Handler. huma's own validation and parse errors of these
// operations use the Tapis envelope too, and those of the caller's other
// operations keep huma's shape (errors.go says how, within huma's globals).
package httpapi
