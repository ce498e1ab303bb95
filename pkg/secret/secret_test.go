package secret_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/paddock-f1/paddock/pkg/secret"
)

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"nats://paddock:s3cret@nats:4222", "nats://paddock:xxxxx@nats:4222"},
		{"nats://tok3n@nats:4222", "nats://xxxxx@nats:4222"},
		{"nats://a:p1@n1:4222,nats://a:p2@n2:4222", "nats://a:xxxxx@n1:4222,nats://a:xxxxx@n2:4222"},
		{"tls://a:p@ss@word@n1:4222", "tls://a:xxxxx@n1:4222"},
		{"nats://nats:4222", "nats://nats:4222"},
		{"postgres://paddock:pw@db:5432/paddock?sslmode=verify-full", "postgres://paddock:xxxxx@db:5432/paddock?sslmode=verify-full"},
		{"postgres://postgres@127.0.0.1:5432/paddock", "postgres://postgres@127.0.0.1:5432/paddock"},
		{"postgres://paddock:pw@db:notaport/paddock", "postgres://paddock:xxxxx@db:notaport/paddock"},
		{"postgres://db/paddock?user=u&password=pw&sslmode=require", "postgres://db/paddock?user=u&password=xxxxx&sslmode=require"},
		{"host=db user=u password=pw dbname=paddock", "host=db user=u password=xxxxx dbname=paddock"},
		{"host=db password='p w\\' x' dbname=paddock", "host=db password=xxxxx dbname=paddock"},
		{"host=db sslpassword=pw", "host=db sslpassword=xxxxx"},
		{"https://hooks.slack.com/services/T0/B0/tok", "https://hooks.slack.com/xxxxx"},
		{"https://hooks.slack.com/triggers/T0/1/tok", "https://hooks.slack.com/xxxxx"},
		{`Post "http://127.0.0.1:9/services/T0/B0/tok": dial tcp 127.0.0.1:9: connect: connection refused`,
			`Post "http://127.0.0.1:9/services/xxxxx": dial tcp 127.0.0.1:9: connect: connection refused`},
		{"build ./services/paddock", "build ./services/paddock"},
		{"no secret here", "no secret here"},
	} {
		if got := secret.Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestMaskErrors masks the errors the libraries make of secret settings,
// which quote them.
func TestMaskErrors(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:planted-1@db:notaport/paddock",
		"host=db port=notaport user=u password=planted-1",
		"postgres://u:planted-1@db/paddock?connect_timeout=x",
	} {
		_, err := pgxpool.ParseConfig(dsn)
		if err == nil {
			t.Fatalf("%q parsed", dsn)
		}
		if got := secret.Err(err).Error(); strings.Contains(got, "planted-1") {
			t.Errorf("pgx's parse error of %q, masked: %s", dsn, got)
		}
	}
	_, err := url.Parse("nats://u:planted-1@nats:port\x7f")
	if err == nil || strings.Contains(secret.Err(err).Error(), "planted-1") {
		t.Errorf("url.Error masked: %v", secret.Err(err))
	}
	wrapped := fmt.Errorf("connect: %w", nats.ErrAuthorization)
	if m := secret.Err(wrapped); !errors.Is(m, nats.ErrAuthorization) {
		t.Errorf("masking lost the error chain: %v", m)
	}
	if secret.Err(nil) != nil {
		t.Error("Err(nil) is not nil")
	}
}
