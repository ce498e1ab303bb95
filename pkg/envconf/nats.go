package envconf

import "github.com/paddock-f1/paddock/pkg/natsrv"

// NATSAuth reads how to authenticate to NATS beyond NATS_URL (which
// carries user:password@ or token@ itself), by the names the nats CLI
// uses: NATS_CREDS (a user credentials file), NATS_NKEY (a file with a
// user nkey seed), NATS_CA (the server's root CA, PEM), NATS_CERT and
// NATS_KEY (a TLS client certificate and its key, PEM). Each is a file
// path; Connect checks the files.
func (r *Reader) NATSAuth() natsrv.Auth {
	return natsrv.Auth{
		Creds: r.String("NATS_CREDS", ""),
		NKey:  r.String("NATS_NKEY", ""),
		CA:    r.String("NATS_CA", ""),
		Cert:  r.String("NATS_CERT", ""),
		Key:   r.String("NATS_KEY", ""),
	}
}
