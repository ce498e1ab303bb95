// Package secret masks credentials in text that reaches a log line, an
// error or a terminal: passwords and tokens in URLs (NATS user:password@
// and token@, PostgreSQL, any scheme), password= in PostgreSQL key=value
// connection strings, and the token path of Slack webhook URLs. It works
// on text as it is, so a setting that does not parse, or an error that
// quotes one, is masked too.
package secret

import (
	"regexp"
	"strings"
)

// Masked replaces every secret Mask finds.
const Masked = "xxxxx"

var (
	// scheme://userinfo@ ; the userinfo may hold '@' itself (greedy up
	// to the last '@' before the host's path, query or fragment).
	userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#"'<>]*)@`)
	// password=... in a key=value DSN or a URL query (sslpassword too).
	password = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&'"]+)`)
	// a Slack incoming webhook: everything after /services/ is the token;
	// hooks.slack.com URLs are secret whatever their path.
	webhook   = regexp.MustCompile(`(?i)(https?://[^\s"'<>]*?/services/)[^\s"'<>]+`)
	slackHook = regexp.MustCompile(`(?i)(https?://hooks\.slack\.com/)[^\s"'<>]+`)
)

// Mask returns s with every credential it holds replaced by Masked: the
// password of user:password@ in any URL (the user name stays), a lone
// token@ in any URL but a PostgreSQL one (where it is the user name),
// password= values, and a webhook's token path. s may be a setting
// (NATS_URL, a comma-separated list of them, DATABASE_URL in either form,
// SLACK_WEBHOOK_URL), parseable or not, or any text quoting one.
func Mask(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(strings.ToLower(s), "password") && !strings.Contains(s, "/services/") && !strings.Contains(s, "hooks.slack.com") {
		return s
	}
	s = userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		scheme, info := sub[1], sub[2]
		if user, _, ok := strings.Cut(info, ":"); ok {
			return scheme + user + ":" + Masked + "@"
		}
		if s := strings.ToLower(scheme); s == "postgres://" || s == "postgresql://" {
			return m // a user name, not a secret
		}
		return scheme + Masked + "@"
	})
	s = password.ReplaceAllString(s, "${1}"+Masked)
	s = slackHook.ReplaceAllString(s, "${1}"+Masked)
	return webhook.ReplaceAllString(s, "${1}"+Masked)
}

// Err returns err with its text masked (Mask), keeping it for errors.Is
// and errors.As; nil stays nil.
func Err(err error) error {
	if err == nil {
		return nil
	}
	return &maskedError{err: err}
}

type maskedError struct{ err error }

func (e *maskedError) Error() string { return Mask(e.err.Error()) }
func (e *maskedError) Unwrap() error { return e.err }
