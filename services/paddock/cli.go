package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand of the CLI: its usage, one line of what it
// does, and its flags, which setup defines.
type command struct {
	name    string
	args    string // the usage line after "paddock <name>"
	summary string // one line, lower case, no full stop
	// operand: the command takes a leading argument before its flags
	// (export's WHAT, help's COMMAND).
	operand bool
	// more, when set, is printed after the flags in the command's help.
	more func() string
	// bare commands run even when the environment's configuration is bad.
	bare bool
	// setup defines the command's flags on fs and returns what runs it
	// once fs has parsed them.
	setup func(fs *flag.FlagSet, cl *cli) runFunc
}

// runFunc runs a command whose flags are parsed; rest holds its other
// arguments, the operand first.
type runFunc func(ctx context.Context, rest []string) error

// lookupCommand finds a command by name; an unknown name is a usage error
// that suggests the nearest command.
func lookupCommand(name string) (command, error) {
	var names []string
	for _, c := range commands() {
		if c.name == name {
			return c, nil
		}
		names = append(names, c.name)
	}
	if near := nearest(name, names); near != "" {
		return command{}, usageError("unknown command %q: did you mean %q?", name, near)
	}
	return command{}, usageError("unknown command %q: run 'paddock help' for the commands", name)
}

// newFlagSet returns a flag set that prints nothing: parseFlags and
// printHelp say what there is to say.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("paddock "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses a command's arguments: the operand (when the command
// takes one and the first argument is not a flag), then the flags. It
// returns flag.ErrHelp for -h/--help, and a usage error naming the nearest
// flag for one that is not defined.
func parseFlags(c command, fs *flag.FlagSet, args []string) (rest []string, err error) {
	var operand []string
	if c.operand && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		operand, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		msg := err.Error()
		if name, ok := undefinedFlag(fs, args); ok {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			if near := nearest(name, names); near != "" {
				return nil, usageError("%s (did you mean -%s?)", msg, near)
			}
		}
		return nil, usageError("%s: run 'paddock %s -h' for its flags", msg, c.name)
	}
	return append(operand, fs.Args()...), nil
}

// undefinedFlag finds the first flag in args that fs does not define,
// scanning as the flag package does: up to the first non-flag argument or
// "--", skipping the values of flags that take one.
func undefinedFlag(fs *flag.FlagSet, args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || a == "--" {
			return "", false
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, _, hasValue := strings.Cut(name, "=")
		f := fs.Lookup(name)
		if f == nil {
			if name == "h" || name == "help" {
				continue
			}
			return name, true
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); (!ok || !b.IsBoolFlag()) && !hasValue {
			i++ // its value
		}
	}
	return "", false
}

// printHelp writes a command's help: its usage line, what it does, its
// flags (as --name) and anything more it has to say.
func printHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: paddock %s\n\n", strings.TrimSpace(c.name+" "+c.args))
	fmt.Fprintf(w, "%s%s.\n", strings.ToUpper(c.summary[:1]), c.summary[1:])
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		var defaults bytes.Buffer
		fs.SetOutput(&defaults)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprintln(w, "\nFlags:")
		for _, line := range strings.SplitAfter(defaults.String(), "\n") {
			if strings.HasPrefix(line, "  -") {
				line = "  --" + line[3:] // the README's spelling; both work
			}
			fmt.Fprint(w, line)
		}
	} else {
		fmt.Fprintln(w, "\nFlags: none")
	}
	if c.more != nil {
		fmt.Fprintf(w, "\n%s", c.more())
	}
}

// setupHelp is 'paddock help [COMMAND]'.
func setupHelp(_ *flag.FlagSet, cl *cli) runFunc {
	return func(_ context.Context, rest []string) error {
		switch len(rest) {
		case 0:
			fmt.Fprint(cl.out, usage())
			return nil
		case 1:
		default:
			return usageError("help takes one command, e.g. 'paddock help import'")
		}
		c, err := lookupCommand(rest[0])
		if err != nil {
			return err
		}
		fs := newFlagSet(c.name)
		c.setup(fs, cl)
		printHelp(cl.out, c, fs)
		return nil
	}
}

// setupDev defines the flags cmdDev parses (devFlags, dev.go), so 'paddock
// dev -h' and a mistyped flag are answered here; cmdDev gets them back as
// given.
func setupDev(fs *flag.FlagSet, cl *cli) runFunc {
	devFlags(fs, cl.cfg)
	return func(ctx context.Context, rest []string) error {
		var args []string
		fs.Visit(func(f *flag.Flag) { args = append(args, "-"+f.Name+"="+f.Value.String()) })
		return cmdDev(ctx, cl.cfg, cl.log, append(args, rest...))
	}
}

// nearest returns the candidate closest to name, or "" when none is close
// enough to be what was meant: at most one edit away (two for names longer
// than four letters; a swap of neighbours is one edit), or the only
// candidate name begins.
func nearest(name string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		if d := editDistance(name, c); best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	limit := 1
	if len(name) > 4 {
		limit = 2
	}
	if best != "" && bestD <= limit && bestD < len(name) {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if len(name) >= 2 && strings.HasPrefix(c, name) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and swaps of adjacent letters.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
