package systems

import (
	"strings"
)

// SystemType is the kind of host a system describes.
type SystemType string

// System types.
const (
	TypeLinux  SystemType = "LINUX"
	TypeS3     SystemType = "S3"
	TypeIRODS  SystemType = "IRODS"
	TypeGlobus SystemType = "GLOBUS"
)

// CredentialCheck is how the credentials of a system type are checked
// against the host before they are stored.
type CredentialCheck int

// How credentials are checked.
const (
	// CheckNone stores credentials as given, as the original does; an
	// explicit check (checkUserCredential) still asks the Verifier, which a
	// hostcheck.Mux without the type answers "not supported".
	CheckNone CredentialCheck = iota
	// CheckHost runs the Service's Verifier, a hostcheck.Mux whose key for
	// the type names the checker (examples/server: sshcheck for LINUX,
	// s3check for S3). Without a Verifier the check answers 501 unless the
	// request skips it.
	CheckHost
	// CheckGlobus runs Globus Transfer through the Service's Globus client;
	// such systems' credentials are Globus tokens (the Globus endpoints,
	// refreshed when read). Without a client they are stored as given.
	CheckGlobus
)

// TypeTraits are the rules a system type brings. Every rule that depends
// on the type reads them from the one table of this file, so a new type is
// one entry (and, for CheckHost, its checker under its name in the
// hostcheck.Mux).
type TypeTraits struct {
	Type SystemType
	// POSIXPaths: rootDir is required, begins with / (or HOST_EVAL), and is
	// normalized at create.
	POSIXPaths bool
	// CanExec: the system may have canExec=true (run jobs).
	CanExec bool
	// HostEval: rootDir may start with HOST_EVAL (evaluated by logging in).
	HostEval bool
	// NeedsPort: port must be from 1 to 65535.
	NeedsPort bool
	// Bucket: an object store; bucketName is required and canExec refused.
	Bucket bool
	// Check is how the type's credentials are checked.
	Check CredentialCheck
}

// typeTable is every system type, in the order of the spec's enum. It is
// never written: read it through SystemTypes and TraitsOf.
var typeTable = [...]TypeTraits{
	{Type: TypeLinux, POSIXPaths: true, CanExec: true, HostEval: true, Check: CheckHost},
	{Type: TypeS3, Bucket: true, Check: CheckHost},
	{Type: TypeIRODS, POSIXPaths: true, NeedsPort: true, Check: CheckNone},
	{Type: TypeGlobus, Check: CheckGlobus},
}

// SystemTypes returns the valid system types, in the order of the spec.
func SystemTypes() []SystemType {
	out := make([]SystemType, len(typeTable))
	for i, t := range typeTable {
		out[i] = t.Type
	}
	return out
}

// TraitsOf returns the traits of a system type; false for an unknown type,
// whose traits are all off.
func TraitsOf(t SystemType) (TypeTraits, bool) {
	for _, tt := range typeTable {
		if tt.Type == t {
			return tt, true
		}
	}
	return TypeTraits{}, false
}

// traitsOf is TraitsOf without the flag.
func traitsOf(t SystemType) TypeTraits {
	tt, _ := TraitsOf(t)
	return tt
}

// typesWith names the types that have a trait, as the rules' messages
// name them: "LINUX", or "LINUX or IRODS".
func typesWith(has func(TypeTraits) bool) string {
	var names []string
	for _, tt := range typeTable {
		if has(tt) {
			names = append(names, string(tt.Type))
		}
	}
	return strings.Join(names, " or ")
}
