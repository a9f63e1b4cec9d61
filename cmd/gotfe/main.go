// Command gotfe holds the tools of a gotfe deployment (certificates, model import and private
// predictions, benchmarks): each subcommand registers itself from an init function of its own
// file with [register].
//
// Usage:
//
//	gotfe <command> [arguments]
//	gotfe help
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one registered subcommand.
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

// register adds a subcommand. name is one word ("certs") or two ("bench transport"); usage is
// its one-line synopsis; run gets the arguments after the name. It panics on a duplicate name,
// which is a programming error found at start-up.
func register(name, usage string, run func(ctx context.Context, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("gotfe: command registered twice: " + name)
	}
	commands[name] = command{name: name, usage: usage, run: run}
}

// errUsage marks an error caused by wrong arguments: main prints the usage after it.
var errUsage = errors.New("usage")

func printUsage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: gotfe <command> [arguments]")
	fmt.Fprintln(w, "commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %s\n", commands[n].usage)
	}
}

// lookup finds the command named by the first one or two arguments, longest match first.
func lookup(args []string) (command, []string, bool) {
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c, args[2:], true
		}
	}
	if len(args) >= 1 {
		if c, ok := commands[args[0]]; ok {
			return c, args[1:], true
		}
	}
	return command{}, nil, false
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(os.Stdout)
		return
	}
	c, rest, ok := lookup(args)
	if !ok {
		fmt.Fprintf(os.Stderr, "gotfe: unknown command %q\n", strings.Join(args[:min(2, len(args))], " "))
		printUsage(os.Stderr)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx, rest); err != nil {
		fmt.Fprintf(os.Stderr, "gotfe %s: %v\n", c.name, err)
		if errors.Is(err, errUsage) {
			fmt.Fprintf(os.Stderr, "usage: %s\n", c.usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}
