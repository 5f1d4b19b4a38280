// Package sshchecktest runs an in-process SSH server for tests of host
// checks: password and public-key logins, an SFTP subsystem over the real
// file system (github.com/pkg/sftp), `echo $NAME` answered from a table,
// and misbehaviours (an SFTP subsystem or a command that never answers, a
// host key that changes).
package sshchecktest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// User is an account on the test server.
type User struct {
	Password       string          // "" refuses password logins
	AuthorizedKeys []ssh.PublicKey // keys that may log in
}

// Options configure a Server.
type Options struct {
	Users map[string]User
	// Env answers `echo $NAME` (an unset name prints an empty line).
	Env map[string]string
	// HostKeys are the server's host keys; one fresh ed25519 key if empty.
	HostKeys []ssh.Signer
	// StallSFTP accepts the SFTP subsystem request and then never answers.
	StallSFTP bool
	// StallExec accepts a command and then never answers.
	StallExec bool
}

// Server is a running test server; it stops when the test ends.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string

	opts     Options
	ln       net.Listener
	mu       sync.Mutex
	hostKeys []ssh.Signer
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
	authN    atomic.Int64
}

// NewServer starts a server on 127.0.0.1.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), opts: opts, ln: ln, hostKeys: opts.HostKeys, conns: map[net.Conn]bool{}}
	if len(s.hostKeys) == 0 {
		s.hostKeys = []ssh.Signer{NewHostKey(t)}
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// NewHostKey returns a fresh ed25519 signer.
func NewHostKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// HostKey returns the server's first host key in authorized_keys format.
func (s *Server) HostKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(s.hostKeys[0].PublicKey())))
}

// SetHostKeys replaces the host keys for the next connections (a host
// re-keyed, or an impostor).
func (s *Server) SetHostKeys(keys ...ssh.Signer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostKeys = keys
}

// AuthAttempts counts the password and public-key attempts the server saw
// (keyboard-interactive is not offered).
func (s *Server) AuthAttempts() int64 { return s.authN.Load() }

// Close stops the server, closes every connection and waits for its
// goroutines.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(md ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			s.authN.Add(1)
			u, ok := s.opts.Users[md.User()]
			if ok && u.Password != "" && u.Password == string(pw) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("password rejected")
		},
		PublicKeyCallback: func(md ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.authN.Add(1)
			for _, k := range s.opts.Users[md.User()].AuthorizedKeys {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, errors.New("key rejected")
		},
	}
	s.mu.Lock()
	for _, k := range s.hostKeys {
		cfg.AddHostKey(k)
	}
	s.mu.Unlock()
	return cfg
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.handle(c)
		}()
	}
}

func (s *Server) handle(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a client that stalls the server's handshake
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config())
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() { s.session(sc, ch, creqs) })
	}
}

var echoCmd = regexp.MustCompile(`^echo \$([A-Za-z_][A-Za-z0-9_]*)$`)

// session serves one session channel: an sftp subsystem or one exec.
func (s *Server) session(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() {
		ch.Close()
		ssh.DiscardRequests(reqs) // until the client has closed its end too
	}()
	for req := range reqs {
		switch req.Type {
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			if s.opts.StallSFTP {
				_ = sc.Wait() // until the client goes
				return
			}
			srv, err := sftp.NewServer(ch)
			if err != nil {
				return
			}
			_ = srv.Serve()
			srv.Close()
			return
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			if s.opts.StallExec {
				_ = sc.Wait()
				return
			}
			status := uint32(0)
			if m := echoCmd.FindStringSubmatch(p.Command); m != nil {
				fmt.Fprintln(ch, s.opts.Env[m[1]])
			} else {
				fmt.Fprintf(ch.Stderr(), "sshchecktest: unsupported command %q\n", p.Command)
				status = 127
			}
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}
