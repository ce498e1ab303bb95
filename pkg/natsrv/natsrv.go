// Package natsrv runs nats-server with JetStream inside the process (the
// embedded default and the tests) and connects clients to NATS with the
// reconnect settings every paddock process uses.
package natsrv

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/streams"
)

// Options configure an embedded server.
type Options struct {
	// StoreDir holds JetStream's data; it survives restarts.
	StoreDir string
	// Port is the TCP client port; 0 opens none (in-process clients only),
	// -1 picks a free one.
	Port int
	// Name is the server name; "paddock" by default.
	Name string
	// Username and Password, when set, are the one user clients must
	// authenticate as (nats://user:password@host:port).
	Username, Password string
}

// Server is an embedded nats-server.
type Server struct {
	ns       *server.Server
	listener bool
	user     string
	password string
}

// Start starts an embedded JetStream server and waits until it accepts
// clients (10 s at most).
func Start(o Options) (*Server, error) {
	if o.StoreDir == "" {
		return nil, fmt.Errorf("natsrv: a JetStream store directory is required")
	}
	if o.Name == "" {
		o.Name = "paddock"
	}
	opts := &server.Options{
		ServerName: o.Name,
		Host:       "127.0.0.1",
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 1 << 20,
		Username:   o.Username,
		Password:   o.Password,
	}
	if o.Port == 0 {
		opts.DontListen = true
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsrv: new server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("natsrv: server in %s not ready after 10s", o.StoreDir)
	}
	return &Server{ns: ns, listener: o.Port != 0, user: o.Username, password: o.Password}, nil
}

// ClientURL is the server's client URL (meaningful only with a TCP port).
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Connect opens a client connection: in-process without a TCP port.
func (s *Server) Connect(name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name)}
	if s.user != "" {
		opts = append(opts, nats.UserInfo(s.user, s.password))
	}
	if !s.listener {
		opts = append(opts, nats.InProcessServer(s.ns))
	}
	nc, err := nats.Connect(s.ns.ClientURL(), opts...)
	if err != nil {
		return nil, fmt.Errorf("natsrv: connect in-process: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server and waits until it is down.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Connect dials a NATS server at url (one or more, comma separated; a
// user:password@ or token@ in it authenticates) with auth's credentials
// and trusted CAs, with reconnects that never give up, so a restart of
// NATS loses nothing but time. A refusal is different: when the server
// rejects the credentials (or the TLS handshake fails) the connection is
// closed instead of retried, and WaitConnected returns an *AuthError
// naming the method, never the secret. It logs disconnects, reconnects and
// refusals. auth is at most one: without it the URL's credentials alone.
func Connect(url, name string, log *slog.Logger, auth ...Auth) (*nats.Conn, error) {
	var a Auth
	if len(auth) > 0 {
		a = auth[0]
	}
	authOpts, err := a.options()
	if err != nil {
		return nil, err
	}
	masked := secret.Mask(url)
	refuse := func(c *nats.Conn, err error) {
		tlsFailure, ok := refused(err)
		if !ok {
			return
		}
		ae := &AuthError{URL: masked, Method: a.Method(url), TLS: tlsFailure, Err: secret.Err(err)}
		if _, loaded := refusals.LoadOrStore(c, ae); !loaded {
			log.Error("nats refused the connection; not retrying", "err", ae)
			if stop, ok := refusalWatch.Load(c); ok {
				stop.(context.CancelFunc)()
			}
		}
		go c.Close() // not from within nats.go's callback
	}
	nc, err := nats.Connect(url, append(authOpts,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		// The first connect's error, and each failed dial after it.
		nats.ReconnectErrHandler(refuse),
		// An authorization error on a connection that was up (credentials
		// revoked or rotated on the server).
		nats.ErrorHandler(func(c *nats.Conn, _ *nats.Subscription, err error) { refuse(c, err) }),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", secret.Err(err))
			}
			refuse(c, err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
		nats.ClosedHandler(func(c *nats.Conn) {
			// nats.go closes by itself after the same authorization error twice.
			if refusal(c) == nil {
				refuse(c, c.LastError())
			}
		}),
	)...)
	if err != nil {
		if tlsFailure, ok := refused(err); ok {
			return nil, &AuthError{URL: masked, Method: a.Method(url), TLS: tlsFailure, Err: secret.Err(err)}
		}
		return nil, secret.Err(fmt.Errorf("natsrv: connect %s: %w (is NATS running? set NATS_URL or unset it for the embedded server)", masked, err))
	}
	return nc, nil
}

// JetStream connects to url with auth (see Connect), waits for the server
// as long as ctx allows, binds JetStream and applies paddock's topology
// with the given stream replicas (0 = as declared: 1), as every service
// does at start. A refusal of the credentials returns an *AuthError at
// once. auth is at most one, as Connect's.
func JetStream(ctx context.Context, url, name string, replicas int, log *slog.Logger, auth ...Auth) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := Connect(url, name, log, auth...)
	if err != nil {
		return nil, nil, err
	}
	if err := WaitConnected(ctx, nc, url); err != nil {
		nc.Close()
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("natsrv: jetstream: %w", err)
	}
	if err := streams.Apply(ctx, js, replicas); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// WaitConnected waits until a connection made by Connect (which keeps
// trying in the background) is up, or ctx ends, or the server refused it
// (an *AuthError); url names it in the error, masked.
func WaitConnected(ctx context.Context, nc *nats.Conn, url string) error {
	for !nc.IsConnected() {
		if ae := refusal(nc); ae != nil {
			return ae
		}
		if nc.IsClosed() {
			return fmt.Errorf("NATS at %s: the connection was closed: %v", secret.Mask(url), secret.Err(nc.LastError()))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("NATS at %s is unreachable: is it running? (unset NATS_URL to use the embedded server): %w", secret.Mask(url), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// Health returns a health check that passes while nc is connected.
func Health(nc *nats.Conn) func(context.Context) error {
	return func(context.Context) error {
		if ae := refusal(nc); ae != nil {
			return ae
		}
		if s := nc.Status(); s != nats.CONNECTED {
			return fmt.Errorf("nats: %s", s)
		}
		return nil
	}
}
