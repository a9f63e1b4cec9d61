package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gotfe/gotfe/deploy"
)

const certsUsage = "certs --out DIR [--hosts h0,h1,h2] [--force] [--validity DURATION] | certs --out DIR --client NAME: make a deployment CA, the three parties' keys and certificates, a client CA and parties.json; or a client's key and certificate"

func init() {
	register("certs", certsUsage, certs)
}

func certs(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	// The flag package would print the usage to one writer for -h and for a bad flag alike:
	// -h prints it here to standard output and is no error; after a bad flag, main prints the
	// error and the synopsis.
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "directory to write ca.pem, party<i>.pem, party<i>.key and parties.json to")
	hosts := fs.String("hosts", "", "the parties' hosts, host or host:port, comma-separated: one for all (consecutive ports) or three (default 127.0.0.1, ports 7000-7002)")
	force := fs.Bool("force", false, "overwrite existing files")
	validity := fs.Duration("validity", deploy.DefaultValidity, "how long the certificates are valid")
	client := fs.String("client", "", "issue a client certificate NAME.pem and key NAME.key from the client CA of the deployment in --out")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stdout, "usage: gotfe %s\n\nflags:\n", certsUsage)
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("%w: %v (gotfe certs -h lists the flags)", errUsage, err)
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: --out is required and no other arguments are taken", errUsage)
	}
	if *client != "" {
		if *hosts != "" {
			return fmt.Errorf("%w: --hosts makes a deployment; --client adds a client to one", errUsage)
		}
		certPath, keyPath, err := deploy.GenerateClientCert(*out, *client, deploy.ClientCertOptions{Validity: *validity, Overwrite: *force})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stdout, "wrote %s and %s: give them to client %s (with parties.json, ca.pem and the party<N>.pem)\n", certPath, keyPath, *client)
		return nil
	}
	var hs []string
	if *hosts != "" {
		hs = strings.Split(*hosts, ",")
	}
	if err := deploy.GenerateCerts(*out, deploy.CertOptions{Hosts: hs, Validity: *validity, Overwrite: *force}); err != nil {
		return err
	}
	p, err := deploy.LoadParties(filepath.Join(*out, deploy.PartiesFile))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "wrote %s\n", filepath.Join(*out, deploy.PartiesFile))
	for i, a := range p.Addrs() {
		fmt.Fprintf(os.Stdout, "  party %d at %s: give it %s\n", i, a, p.KeyPath(i))
	}
	return nil
}
