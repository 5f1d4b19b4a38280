// Package systems is the Tapis Systems service without HTTP: system
// definitions and their validation rules, the ${apiUserId}/${owner}/${tenant}
// variables and HOST_EVAL, lifecycle operations with history, child systems
// and scheduler profiles, over a systems.Store. Every operation asks one
// Authorizer whether the principal may do it.
package systems
