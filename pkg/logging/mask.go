package logging

import (
	"fmt"
	"log/slog"

	"github.com/paddock-f1/paddock/pkg/secret"
)

// masked wraps a ReplaceAttr so that no string, error or stringer value
// of a line (its message included) prints a credential: URLs with
// passwords or tokens, password= values and webhook tokens are masked
// (secret.Mask) whoever logged them.
func masked(next func([]string, slog.Attr) slog.Attr) func([]string, slog.Attr) slog.Attr {
	return func(groups []string, a slog.Attr) slog.Attr {
		a = next(groups, a)
		switch a.Value.Kind() {
		case slog.KindString:
			if s := a.Value.String(); secret.Mask(s) != s {
				return slog.String(a.Key, secret.Mask(s))
			}
		case slog.KindAny:
			switch v := a.Value.Any().(type) {
			case error:
				if s := v.Error(); secret.Mask(s) != s {
					return slog.Any(a.Key, secret.Err(v))
				}
			case fmt.Stringer:
				if s := v.String(); secret.Mask(s) != s {
					return slog.String(a.Key, secret.Mask(s))
				}
			case map[string]string:
				for _, s := range v {
					if secret.Mask(s) != s {
						return slog.String(a.Key, secret.Mask(fmt.Sprint(v)))
					}
				}
			}
		}
		return a
	}
}
