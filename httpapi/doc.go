// Package httpapi is the huma layer of the library: it maps the Tapis wire
// format (paths, operation ids, parameter names, JSON fields, the response
// envelope) to the domain services and back, and nothing more. Rules live in
// the domain packages; errors are translated to status codes in one table
// (errors.go); the token middleware (auth.go) turns X-Tapis-Token and the
// on-behalf-of headers into a tenancy.Principal.
//
// Register adds every operation to a caller's huma.API; NewHandler builds a
// stand-alone http.Handler. Call InstallErrors once, before registering, so
// that huma's own validation and parse errors use the Tapis envelope too.
package httpapi
