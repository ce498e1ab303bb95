package natsrv_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/paddock-f1/paddock/pkg/natsrv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startServer runs nats-server with JetStream and opts' authentication on
// a TCP port; it returns its host:port.
func startServer(t *testing.T, opts *server.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.JetStream, opts.StoreDir = "127.0.0.1", -1, true, t.TempDir()
	opts.NoLog, opts.NoSigs = os.Getenv("DEBUGAUTH") == "", true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("DEBUGAUTH") != "" {
		ns.ConfigureLogger()
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns.Addr().String()
}

// roundTrip connects as the services do and puts and gets a JetStream
// message; it returns the connect error, if any.
func roundTrip(t *testing.T, url string, auth natsrv.Auth) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc, js, err := natsrv.JetStream(ctx, url, "auth-test", 1, quiet, auth)
	if err != nil {
		return err
	}
	defer nc.Close()
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "AUTHTEST", Subjects: []string{"authtest.>"}})
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if _, err := js.Publish(ctx, "authtest.a", []byte("hello")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	m, err := s.GetLastMsgForSubject(ctx, "authtest.a")
	if err != nil || string(m.Data) != "hello" {
		t.Fatalf("get: %v %v", err, m)
	}
	return nil
}

// refusedPromptly checks that a connection with wrong credentials fails
// within a few seconds with an AuthError naming method, not secret.
func refusedPromptly(t *testing.T, url string, auth natsrv.Auth, method, secret string) {
	t.Helper()
	start := time.Now()
	err := roundTrip(t, url, auth)
	var ae *natsrv.AuthError
	switch {
	case err == nil:
		t.Fatalf("connected with wrong credentials (%s)", method)
	case !errors.As(err, &ae):
		t.Fatalf("wrong credentials (%s): not an authentication error after %s: %v", method, time.Since(start), err)
	case time.Since(start) > 10*time.Second:
		t.Errorf("refusal took %s", time.Since(start))
	}
	msg := err.Error()
	if !strings.Contains(msg, method) || strings.Contains(msg, "unreachable") {
		t.Errorf("error does not name %q (or calls it unreachable): %s", method, msg)
	}
	if !strings.Contains(msg, "authentication failed") && !strings.Contains(msg, "TLS handshake failed") {
		t.Errorf("error does not say authentication failed: %s", msg)
	}
	if secret != "" && strings.Contains(msg, secret) {
		t.Errorf("error prints the secret: %s", msg)
	}
}

func TestUserPassword(t *testing.T) {
	addr := startServer(t, &server.Options{Username: "paddock", Password: "right-pw-1"})
	if err := roundTrip(t, "nats://paddock:right-pw-1@"+addr, natsrv.Auth{}); err != nil {
		t.Fatal(err)
	}
	refusedPromptly(t, "nats://paddock:wrong-pw-2@"+addr, natsrv.Auth{}, "user and password in NATS_URL", "wrong-pw-2")
}

func TestToken(t *testing.T) {
	addr := startServer(t, &server.Options{Authorization: "right-token-1"})
	if err := roundTrip(t, "nats://right-token-1@"+addr, natsrv.Auth{}); err != nil {
		t.Fatal(err)
	}
	refusedPromptly(t, "nats://wrong-token-2@"+addr, natsrv.Auth{}, "token in NATS_URL", "wrong-token-2")
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNKey(t *testing.T) {
	user, _ := nkeys.CreateUser()
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	addr := startServer(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	if err := roundTrip(t, "nats://"+addr, natsrv.Auth{NKey: writeFile(t, "user.nk", seed)}); err != nil {
		t.Fatal(err)
	}
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	refusedPromptly(t, "nats://"+addr, natsrv.Auth{NKey: writeFile(t, "other.nk", otherSeed)}, "nkey seed NATS_NKEY=", string(otherSeed))
	refusedPromptly(t, "nats://"+addr, natsrv.Auth{}, "no credentials", "")
}

// TestCredsFile runs the server in operator mode (operator, account with
// JetStream, user JWT) and connects with the user's credentials file.
func TestCredsFile(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	ojwt, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	skp, _ := nkeys.CreateAccount() // the system account operator mode needs
	spub, _ := skp.PublicKey()
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	opClaims, err := jwt.DecodeOperatorClaims(ojwt)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(apub, ajwt); err != nil {
		t.Fatal(err)
	}
	if err := resolver.Store(spub, sjwt); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, &server.Options{TrustedOperators: []*jwt.OperatorClaims{opClaims}, AccountResolver: resolver, SystemAccount: spub})

	creds := func(signer nkeys.KeyPair) string {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		uc := jwt.NewUserClaims(upub)
		uc.IssuerAccount = apub
		ujwt, err := uc.Encode(signer)
		if err != nil {
			t.Fatal(err)
		}
		useed, _ := ukp.Seed()
		file, err := jwt.FormatUserConfig(ujwt, useed)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, "user.creds", file)
	}
	if err := roundTrip(t, "nats://"+addr, natsrv.Auth{Creds: creds(akp)}); err != nil {
		t.Fatal(err)
	}
	stranger, _ := nkeys.CreateAccount() // signs a user of an account the server does not know
	refusedPromptly(t, "nats://"+addr, natsrv.Auth{Creds: creds(stranger)}, "credentials file NATS_CREDS=", "")
	if err := roundTrip(t, "nats://"+addr, natsrv.Auth{Creds: filepath.Join(t.TempDir(), "missing.creds")}); err == nil || !strings.Contains(err.Error(), "NATS_CREDS=") {
		t.Errorf("a missing credentials file: %v", err)
	}
}

// pki is a CA made for a test, with a server and a client certificate.
type pki struct {
	ca                    *x509.Certificate
	caKey                 *ecdsa.PrivateKey
	caFile                string
	serverTLS             *tls.Config
	clientCert, clientKey string
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return ca, key
}

func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca, caKey := newCA(t, "paddock test CA")
	p := &pki{ca: ca, caKey: caKey, caFile: writeFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}))}
	scert, skey := issue(t, ca, caKey, "nats", x509.ExtKeyUsageServerAuth)
	pair, err := tls.X509KeyPair(scert, skey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p.serverTLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	ccert, ckey := issue(t, ca, caKey, "paddock", x509.ExtKeyUsageClientAuth)
	p.clientCert, p.clientKey = writeFile(t, "client.pem", ccert), writeFile(t, "client-key.pem", ckey)
	return p
}

// TestTLSClientCertificate: the server verifies clients (a client
// certificate is required) and its certificate is signed by a CA made
// here, which the client trusts through NATS_CA.
func TestTLSClientCertificate(t *testing.T) {
	p := newPKI(t)
	addr := startServer(t, &server.Options{TLS: true, TLSVerify: true, TLSConfig: p.serverTLS, TLSTimeout: 2})
	good := natsrv.Auth{CA: p.caFile, Cert: p.clientCert, Key: p.clientKey}
	if err := roundTrip(t, "tls://"+addr, good); err != nil {
		t.Fatal(err)
	}
	// A client certificate from another CA: the server refuses it.
	other, otherKey := newCA(t, "someone else's CA")
	ocert, okey := issue(t, other, otherKey, "intruder", x509.ExtKeyUsageClientAuth)
	refusedPromptly(t, "tls://"+addr, natsrv.Auth{CA: p.caFile, Cert: writeFile(t, "o.pem", ocert), Key: writeFile(t, "ok.pem", okey)}, "TLS client certificate NATS_CERT=", "")
	// Without NATS_CA the server's certificate is not trusted.
	refusedPromptly(t, "tls://"+addr, natsrv.Auth{Cert: p.clientCert, Key: p.clientKey}, "TLS client certificate NATS_CERT=", "")
}
