package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"runtime/debug"
	"strings"
	"testing"
)

// runCLI runs the CLI with args and returns what it printed on standard
// output and its exit code (0, or the code of its *exitError; 1 for any
// other error) with the error's message.
func runCLI(t *testing.T, args ...string) (out string, code int, msg string) {
	t.Helper()
	var buf bytes.Buffer
	err := run(context.Background(), args, &buf)
	var exit *exitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code, msg = exit.code, exit.msg
	default:
		code, msg = 1, err.Error()
	}
	return buf.String(), code, msg
}

// flagNames are the flags a command defines.
func flagNames(c command) []string {
	fs := newFlagSet(c.name)
	cfg, _ := loadConfig()
	c.setup(fs, &cli{cfg: cfg, out: io.Discard})
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

func TestHelpOfEveryCommand(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				out, code, msg := runCLI(t, args...)
				if code != 0 {
					t.Fatalf("exit %d (%s), want 0; output:\n%s", code, msg, out)
				}
				if !strings.HasPrefix(out, "Usage: paddock "+c.name) {
					t.Errorf("help does not start with its usage line:\n%s", out)
				}
				if !strings.Contains(out, c.summary[1:]) {
					t.Errorf("help lacks the description %q:\n%s", c.summary, out)
				}
				for _, name := range flagNames(c) {
					if !strings.Contains(out, "\n  --"+name+" ") && !strings.Contains(out, "\n  --"+name+"\n") {
						t.Errorf("help does not name --%s:\n%s", name, out)
					}
				}
			})
		}
	}
}

func TestHelpNamesTheFlagsThatMatter(t *testing.T) {
	for cmd, want := range map[string][]string{
		"import":  {"--year", "--round", "--session", "--kinds", "--force", "--refetch", "--max-calls", "--notify", "--recorded", "--data-dir", "--json"},
		"plan":    {"--year", "--follow"},
		"gaps":    {"--year", "--json", "--recorded"},
		"status":  {"--run", "--json", "--limit"},
		"export":  {"--year", "--round", "--session", "--driver", "--lap", "--out", "weather", "corners"},
		"quota":   {"--json", "--data-dir"},
		"dev":     {"--listen", "--recorded", "--data-dir", "--http-addr"},
		"standin": {"--dir", "--addr"},
		"migrate": {"Flags: none"},
		"version": {"Flags: none"},
	} {
		out, code, _ := runCLI(t, cmd, "-h")
		for _, w := range want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("paddock %s -h (exit %d) lacks %q:\n%s", cmd, code, w, out)
			}
		}
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out, code, msg := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("paddock %v: exit %d (%s)", args, code, msg)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "\n  "+c.name+" ") || !strings.Contains(out, c.summary) {
				t.Errorf("paddock %v does not list %s with its line:\n%s", args, c.name, out)
			}
		}
	}
	// No command at all: the list, and exit 2.
	if out, code, _ := runCLI(t); code != 2 || !strings.Contains(out, "Commands:") {
		t.Errorf("paddock without a command: exit %d, output:\n%s", code, out)
	}
}

func TestSuggestCommandAndFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"swapped letters", []string{"improt"}, `unknown command "improt": did you mean "import"?`},
		{"missing letter", []string{"stats"}, `did you mean "status"?`},
		{"prefix", []string{"exp"}, `did you mean "export"?`},
		{"help of a typo", []string{"help", "qouta"}, `unknown command "qouta": did you mean "quota"?`},
		{"flag", []string{"import", "-yeer", "2019"}, "flag provided but not defined: -yeer (did you mean -year?)"},
		{"flag with two dashes", []string{"import", "--year", "2019", "--sesion", "Q"}, "flag provided but not defined: -sesion (did you mean -session?)"},
		{"flag with a value", []string{"status", "--limt=3"}, "(did you mean -limit?)"},
		{"flag after the operand", []string{"export", "weather", "--yaer", "2019"}, "(did you mean -year?)"},
		{"dev flag", []string{"dev", "--lisen", "4222"}, "flag provided but not defined: -lisen (did you mean -listen?)"},
		{"export what", []string{"export", "wether", "--year", "2019", "--round", "14", "--session", "Q"}, `cannot export "wether": did you mean "weather"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code, msg := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(msg, tc.want) {
				t.Fatalf("paddock %v: exit %d, message %q, want exit 2 and %q (output %q)", tc.args, code, msg, tc.want, out)
			}
		})
	}
}

func TestSuggestNothingWhenNothingIsClose(t *testing.T) {
	_, code, msg := runCLI(t, "frobnicate")
	if code != 2 || strings.Contains(msg, "did you mean") || !strings.Contains(msg, "paddock help") {
		t.Errorf("paddock frobnicate: exit %d, %q", code, msg)
	}
	_, code, msg = runCLI(t, "status", "--xyz")
	if code != 2 || strings.Contains(msg, "did you mean") || !strings.Contains(msg, "paddock status -h") {
		t.Errorf("paddock status --xyz: exit %d, %q", code, msg)
	}
	for _, tc := range []struct{ name, want string }{
		{"import", "import"}, {"imprt", "import"}, {"x", ""}, {"st", ""}, {"ver", "version"}, {"mirgate", "migrate"},
	} {
		if got := nearest(tc.name, []string{"import", "status", "standin", "version", "migrate"}); got != tc.want {
			t.Errorf("nearest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, code, msg := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "paddock ") || !strings.Contains(out, "go:        go1.") {
			t.Errorf("paddock %v: exit %d (%s):\n%s", args, code, msg, out)
		}
	}
	got := versionText(&debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/paddock-f1/paddock/services/paddock", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "a334b0db8ed2acfb55b5700087f6d20dcc141fc2"},
			{Key: "vcs.time", Value: "2026-12-02T02:24:53Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	})
	for _, want := range []string{"paddock v1.4.0\n", "module:    github.com/paddock-f1/paddock/services/paddock\n",
		"revision:  a334b0db8ed2acfb55b5700087f6d20dcc141fc2 (modified)\n", "committed: 2026-12-02T02:24:53Z\n", "go:        go1.26.8 "} {
		if !strings.Contains(got, want) {
			t.Errorf("version lacks %q:\n%s", want, got)
		}
	}
	for _, info := range []*debug.BuildInfo{nil, {Main: debug.Module{Version: "(devel)"}}} {
		got := versionText(info)
		if !strings.HasPrefix(got, "paddock devel\n") || !strings.Contains(got, "revision:  unknown\n") {
			t.Errorf("version without build information:\n%s", got)
		}
	}
}
