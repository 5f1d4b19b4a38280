// Package tenancy holds the Tapis registry of sites, tenants, tenant owners and
// LDAP connection objects, the roles derived from it (tenant admins, token
// generators, allowable tenants) and the request Principal that every other
// package authorizes against.
//
// The Service applies the rules of the Tenants API (field formats, exactly one
// primary site, reserved tenant ids, referential checks, history on update);
// a Store persists the records. Every adapter runs the conformance suite in
// tenancy/tenancytest.
package tenancy
