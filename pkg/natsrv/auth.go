package natsrv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/paddock-f1/paddock/pkg/secret"
)

// Auth is how a client proves who it is to NATS beyond the URL (which
// carries user:password@ or a token@ itself), and which servers it trusts.
// Every field is a file path; empty fields are not used. The services read
// them from the environment (package envconf: NATS_CREDS, NATS_NKEY,
// NATS_CA, NATS_CERT, NATS_KEY, the names the nats CLI uses).
type Auth struct {
	Creds string // user credentials file: the user's JWT and nkey seed (operator/account mode)
	NKey  string // a file holding the user's nkey seed ("SU...")
	CA    string // PEM root certificates the server's certificate must chain to
	Cert  string // PEM client certificate, with Key: TLS client authentication
	Key   string // PEM private key of Cert
}

// options turns a into nats.go options, checking every file first so a
// missing or unreadable one is named now rather than retried forever.
func (a Auth) options() ([]nats.Option, error) {
	for _, f := range []struct{ env, path string }{{"NATS_CREDS", a.Creds}, {"NATS_NKEY", a.NKey}, {"NATS_CA", a.CA}, {"NATS_CERT", a.Cert}, {"NATS_KEY", a.Key}} {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return nil, fmt.Errorf("natsrv: %s=%s cannot be read: %w", f.env, f.path, err)
		}
	}
	if (a.Cert == "") != (a.Key == "") {
		return nil, errors.New("natsrv: a TLS client certificate needs both NATS_CERT and NATS_KEY")
	}
	if a.Creds != "" && a.NKey != "" {
		return nil, errors.New("natsrv: set NATS_CREDS or NATS_NKEY, not both (a credentials file holds its own nkey)")
	}
	var opts []nats.Option
	if a.Creds != "" {
		opts = append(opts, nats.UserCredentials(a.Creds))
	}
	if a.NKey != "" {
		o, err := nats.NkeyOptionFromSeed(a.NKey)
		if err != nil {
			return nil, fmt.Errorf("natsrv: NATS_NKEY=%s: %w", a.NKey, secret.Err(err))
		}
		opts = append(opts, o)
	}
	if a.CA != "" {
		opts = append(opts, nats.RootCAs(a.CA))
	}
	if a.Cert != "" {
		opts = append(opts, nats.ClientCert(a.Cert, a.Key))
	}
	return opts, nil
}

// Method names how a client with a at rawURL authenticates, for errors:
// never the secret itself.
func (a Auth) Method(rawURL string) string {
	var m []string
	switch {
	case a.Creds != "":
		m = append(m, "credentials file NATS_CREDS="+a.Creds)
	case a.NKey != "":
		m = append(m, "nkey seed NATS_NKEY="+a.NKey)
	}
	if a.Cert != "" {
		m = append(m, "TLS client certificate NATS_CERT="+a.Cert)
	}
	first, _, _ := strings.Cut(rawURL, ",")
	if u, err := url.Parse(strings.TrimSpace(first)); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			m = append(m, "user and password in NATS_URL")
		} else {
			m = append(m, "token in NATS_URL")
		}
	}
	if len(m) == 0 {
		return "no credentials (NATS_URL without user, NATS_CREDS, NATS_NKEY, NATS_CERT unset)"
	}
	return strings.Join(m, ", ")
}

// AuthError is NATS refusing the client: its credentials (authorization
// violation, expired or revoked) or the TLS handshake (a certificate
// neither side trusts). Retrying with the same settings cannot help, so
// Connect's retries stop and WaitConnected returns it.
type AuthError struct {
	URL    string // masked
	Method string // how the client authenticated (Auth.Method)
	TLS    bool   // the TLS handshake failed, not the credentials
	Err    error
}

func (e *AuthError) Error() string {
	if e.TLS {
		return fmt.Sprintf("NATS at %s: TLS handshake failed (%s, NATS_CA for the server's CA): %v; check the certificates and the server's tls block",
			e.URL, e.Method, e.Err)
	}
	return fmt.Sprintf("NATS at %s: authentication failed with %s: %v; check the credentials against the server's authorization (they are not retried)",
		e.URL, e.Method, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// refused classifies err as a refusal Connect must not retry: nil when it
// is not one (a network error, a server restarting).
func refused(err error) (tlsFailure, ok bool) {
	if err == nil {
		return false, false
	}
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) ||
		errors.Is(err, nats.ErrAccountAuthExpired) {
		return false, true
	}
	s := strings.ToLower(err.Error())
	for _, m := range []string{"authorization violation", "authentication expired", "authentication revoked", "user authentication"} {
		if strings.Contains(s, m) {
			return false, true
		}
	}
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	if errors.As(err, &unknownCA) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify) ||
		errors.As(err, &alert) || strings.Contains(s, "remote error: tls:") || strings.Contains(s, "tls: ") || strings.Contains(s, "tls error") ||
		errors.Is(err, nats.ErrSecureConnRequired) || errors.Is(err, nats.ErrSecureConnWanted) {
		return true, true
	}
	return false, false
}

// refusals holds, per connection made by Connect, the refusal that closed
// it, for WaitConnected and Health.
var refusals sync.Map // *nats.Conn → *AuthError

func refusal(nc *nats.Conn) *AuthError {
	if v, ok := refusals.Load(nc); ok {
		return v.(*AuthError)
	}
	return nil
}

// refusalWatch holds, per connection, the cancel of its UntilRefused
// context.
var refusalWatch sync.Map // *nats.Conn → context.CancelFunc

// UntilRefused returns a context that ends with ctx, or as soon as the
// server refuses nc's credentials while the service runs (revoked, or
// rotated on the server but not here): a service then stops, and Refused
// says why, instead of running on without NATS. Call stop when done.
func UntilRefused(ctx context.Context, nc *nats.Conn) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	refusalWatch.Store(nc, cancel)
	if refusal(nc) != nil {
		cancel()
	}
	return ctx, func() {
		refusalWatch.Delete(nc)
		cancel()
	}
}

// Refused is the refusal of the credentials that closed nc (an
// *AuthError), or nil.
func Refused(nc *nats.Conn) error {
	if r := refusal(nc); r != nil {
		return r
	}
	return nil
}
