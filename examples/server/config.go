package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tapis-go/tapis/devseed"
)

// kekSize is the length of the key-encryption key in bytes.
const kekSize = 32

// options are the parsed flags (and their TAPIS_* environment equivalents).
type options struct {
	addr          string
	metricsAddr   string // "" = no metrics listener
	data          string
	db            string
	dev           bool
	configFile    string
	kekFile       string
	previousKEKs  string // comma-separated files of KEKs the data may still be sealed with
	site          string
	defaultTenant string
	level         slog.Level

	allowPrivateHosts bool // credential checks may reach private addresses
	trustedProxies    prefixList
	globus            globusOptions
	associate         associateOptions

	dbDefaulted      bool // db derived from -data
	kekFileDefaulted bool // kekFile derived from -data
	kekFileOnCmdLine bool // -kek-file given as a flag (wins over TAPIS_KEK)
}

// envName is the environment variable of a flag: TAPIS_ + upper case, '-' → '_'.
func envName(flagName string) string {
	return "TAPIS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseOptions parses args; a flag not given on the command line takes its
// value from its environment variable, if set.
func parseOptions(args []string, getenv func(string) string, usageOut io.Writer) (*options, error) {
	o := &options{}
	var logLevel string
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address host:port (the API, /livez and /readyz)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "listen address host:port of a second listener serving Prometheus metrics at /metrics (default: off)")
	fs.StringVar(&o.data, "data", "./tapis-data", "data directory (SQLite database, KEK file); created 0700")
	fs.StringVar(&o.db, "db", "", "database DSN: sqlite:PATH or postgres://... (default sqlite:<data>/tapis.db)")
	fs.BoolVar(&o.dev, "dev", false, "seed the development fixtures and print their credentials (never in production)")
	fs.StringVar(&o.configFile, "config", "", "seed file (.yaml, .yml or .json) applied at start")
	fs.StringVar(&o.kekFile, "kek-file", "", "file holding the base64 32-byte KEK, created 0600 if absent (default <data>/kek); TAPIS_KEK may hold the base64 KEK instead")
	fs.StringVar(&o.previousKEKs, "previous-kek-files", "", "after a KEK rotation: comma-separated files each holding a base64 KEK the database may still be sealed with; what they seal is re-sealed with the KEK at start. TAPIS_PREVIOUS_KEKS may hold the base64 KEKs (comma-separated) instead")
	fs.StringVar(&o.site, "site", "", "id of the site this server runs as (default: the primary site)")
	fs.StringVar(&o.defaultTenant, "default-tenant", "", "tenant of requests whose Host matches no tenant base URL (default: dev if it exists, else the primary site's admin tenant)")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&o.allowPrivateHosts, "allow-private-hosts", false, "let credential checks and HOST_EVAL reach loopback and private addresses (hosts on a private network)")
	fs.Var(&o.trustedProxies, "trusted-proxies", "comma-separated addresses or CIDR prefixes of reverse proxies (an ingress) whose X-Forwarded-For names the client the login limits count by (default: none, the peer counts)")
	o.globus.addFlags(fs)
	o.associate.addFlags(fs)
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " [$" + envName(f.Name) + "]" })
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "Usage: server [flags]\n\nRuns the Tapis core services (sites, tenants, tokens). Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	onCmdLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCmdLine[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if onCmdLine[f.Name] {
			return
		}
		if v, ok := lookup(getenv, envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if !validLevel(logLevel) || o.level.UnmarshalText([]byte(logLevel)) != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", logLevel)
	}
	if o.data == "" {
		return nil, errors.New("-data must not be empty")
	}
	if err := o.associate.check(o); err != nil {
		return nil, err
	}
	if o.db == "" {
		o.db, o.dbDefaulted = "sqlite:"+filepath.Join(o.data, "tapis.db"), true
	}
	o.kekFileOnCmdLine = onCmdLine["kek-file"]
	if o.kekFile == "" {
		o.kekFile, o.kekFileDefaulted = filepath.Join(o.data, "kek"), true
	}
	return o, nil
}

// prefixList is the value of -trusted-proxies: each element a CIDR prefix
// or a single address; setting it replaces the list.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	if l == nil {
		return ""
	}
	out := make([]string, len(*l))
	for i, p := range *l {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}

// Set parses a comma-separated list, naming every element that is neither
// a prefix nor an address.
func (l *prefixList) Set(s string) error {
	var out prefixList
	var errs []error
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else {
			errs = append(errs, fmt.Errorf("%q is neither an address nor a CIDR prefix", f))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	*l = out
	return nil
}

func validLevel(s string) bool {
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

// lookup treats an empty variable as unset.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// loadKEK returns the key-encryption key: from TAPIS_KEK (base64) unless a
// KEK file was named, else from the KEK file, which is created with a fresh
// random key if it does not exist and mayCreate (nil: always) allows it.
// The data directory must exist if the default file is used.
func loadKEK(o *options, getenv func(string) string, log *slog.Logger, mayCreate func() error) ([]byte, error) {
	inline, hasInline := lookup(getenv, "TAPIS_KEK")
	if hasInline && !o.kekFileOnCmdLine {
		if _, fileEnv := lookup(getenv, envName("kek-file")); fileEnv {
			return nil, errors.New("both TAPIS_KEK and TAPIS_KEK_FILE are set; set only one")
		}
		kek, err := decodeKEK(inline)
		if err != nil {
			return nil, fmt.Errorf("TAPIS_KEK: %w", err)
		}
		return kek, nil
	}
	raw, err := os.ReadFile(o.kekFile)
	if errors.Is(err, fs.ErrNotExist) {
		if mayCreate != nil {
			if err := mayCreate(); err != nil {
				return nil, err
			}
		}
		return createKEKFile(o.kekFile, log)
	}
	if err != nil {
		return nil, fmt.Errorf("KEK file: %w", err)
	}
	if st, err := os.Stat(o.kekFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("the KEK file is readable by group or others; chmod 600 it", "file", o.kekFile, "mode", st.Mode().Perm().String())
	}
	kek, err := decodeKEK(string(raw))
	if err != nil {
		return nil, fmt.Errorf("KEK file %s: %w", o.kekFile, err)
	}
	return kek, nil
}

// loadPreviousKEKs returns the KEKs of -previous-kek-files and of
// TAPIS_PREVIOUS_KEKS (base64, comma-separated), each error naming where
// the key came from (never the key).
func loadPreviousKEKs(o *options, getenv func(string) string) ([][]byte, error) {
	var keks [][]byte
	var problems []error
	for _, path := range splitList(o.previousKEKs) {
		raw, err := os.ReadFile(path)
		if err == nil {
			var kek []byte
			if kek, err = decodeKEK(string(raw)); err == nil {
				keks = append(keks, kek)
				continue
			}
		}
		problems = append(problems, fmt.Errorf("previous KEK file %s: %w", path, err))
	}
	inline, _ := lookup(getenv, "TAPIS_PREVIOUS_KEKS")
	for i, v := range splitList(inline) {
		kek, err := decodeKEK(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("TAPIS_PREVIOUS_KEKS, key %d: %w", i+1, err))
			continue
		}
		keks = append(keks, kek)
	}
	return keks, errors.Join(problems...)
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// createKEKFile writes a new random KEK, base64-encoded, to a new 0600 file.
// If another process created the file meanwhile, that file's key is used.
func createKEKFile(path string, log *slog.Logger) ([]byte, error) {
	kek := make([]byte, kekSize)
	if _, err := rand.Read(kek); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		raw, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, fmt.Errorf("KEK file: %w", rerr)
		}
		return decodeKEK(string(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("create KEK file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(kek) + "\n")
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("write KEK file: %w", err)
	}
	log.Info("created a new key-encryption key; back it up: without it the tenant signing keys cannot be opened", "file", path)
	return kek, nil
}

func decodeKEK(s string) ([]byte, error) {
	kek, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(kek) != kekSize {
		return nil, fmt.Errorf("the key is %d bytes, want %d", len(kek), kekSize)
	}
	return kek, nil
}

// loadSeed reads a -config file: YAML (.yaml, .yml) or JSON (.json), in the
// wire shapes of the Tenants API. Unknown fields are errors, so that a
// misspelt key does not go unnoticed.
func loadSeed(path string) (devseed.Seed, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return devseed.Seed{}, err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
	case ".yaml", ".yml":
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return devseed.Seed{}, fmt.Errorf("%s: %w", path, err)
		}
		if raw, err = json.Marshal(doc); err != nil {
			return devseed.Seed{}, fmt.Errorf("%s: %w", path, err)
		}
	default:
		return devseed.Seed{}, fmt.Errorf("%s: unknown extension: want .yaml, .yml or .json", path)
	}
	var seed devseed.Seed
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return devseed.Seed{}, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return devseed.Seed{}, fmt.Errorf("%s: trailing data after the JSON document", path)
	}
	return seed, nil
}
