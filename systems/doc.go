// Package systems is the Tapis Systems service without HTTP: system
// definitions and their validation rules, the ${apiUserId}/${owner}/${tenant}
// variables and HOST_EVAL, lifecycle operations with history, child systems,
// scheduler profiles, search, permissions and sharing, and credentials
// (stored in a credentials.Vault, checked against hosts by a
// hostcheck.Verifier, Globus tokens through a Globus), over a Store and an
// AccessStore. Every operation asks one Authorizer whether the principal may
// do it.
package systems
