package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/transport/quic"
)

// PartyConfig returns the configuration of party id of the deployment described by the parties
// file at partiesPath (see package deploy): its links to the other parties (with keyPath its
// key file, empty for party<id>.key beside the file), its serving address and TLS
// configuration. The caller adds the model (party 0) and tunes the rest.
func PartyConfig(partiesPath string, id int, keyPath string) (Config, error) {
	ps, err := deploy.LoadParties(partiesPath)
	if err != nil {
		return Config{}, err
	}
	qc, err := ps.Config(id, keyPath)
	if err != nil {
		return Config{}, err
	}
	clientCAs, err := ps.ClientCAPool()
	if err != nil {
		return Config{}, err
	}
	return Config{
		Party:  id,
		Listen: ps.ServeAddrs()[id],
		TLS:    ServerTLS(qc.Key, clientCAs),
		Links:  dialLinks(qc),
	}, nil
}

// dialLinks returns a Links function that links a party over QUIC as qc says. A dead peer is
// noticed within the idle timeout, 3 s, rather than the default 10 s.
func dialLinks(qc quic.Config) func(ctx context.Context) (Links, error) {
	if qc.IdleTimeout == 0 {
		qc.IdleTimeout = 3 * time.Second
	}
	return func(ctx context.Context) (Links, error) {
		ep, err := quic.Dial(ctx, qc)
		if err != nil {
			return nil, err
		}
		return ep, nil
	}
}

// ClientConfigFromFile returns a client's configuration for the deployment described by the
// parties file at partiesPath, with the client's certificate and key files.
func ClientConfigFromFile(partiesPath, certPath, keyPath string) (ClientConfig, error) {
	ps, err := deploy.LoadParties(partiesPath)
	if err != nil {
		return ClientConfig{}, err
	}
	key, err := deploy.LoadKeyPair(certPath, keyPath)
	if err != nil {
		return ClientConfig{}, err
	}
	return ClientConfig{Addrs: ps.ServeAddrs(), Certs: ps.Certs(), CA: ps.CAPool(), Key: key}, nil
}

// LocalOptions tune [StartLocal].
type LocalOptions struct {
	// Output is the output mode (see Config.Output).
	Output string
	// Tune, if not nil, adjusts each party's configuration before it starts.
	Tune func(c *Config)
	// Logger receives the parties' logs; nil discards them.
	Logger *slog.Logger
}

// Local is a deployment of three serving parties in this process, linked over QUIC with
// mutual TLS on loopback, with certificates made for it alone: the local try-out of private
// predictions, and the deployment of tests and benchmarks. Its clients are outside the
// parties, as in a distributed deployment.
type Local struct {
	cfgs    [secure.NumParties]Config
	pki     *deploy.PKI
	ca      *deploy.ClientCA
	serveAt [secure.NumParties]string

	mu      sync.Mutex
	servers [secure.NumParties]*Server
	cancels [secure.NumParties]context.CancelFunc
	dones   [secure.NumParties]chan struct{}
}

// localAttempt bounds one attempt of StartLocal to bring the three parties up: a loopback
// session takes milliseconds, so a longer wait means that something outside the parties got in
// the way (another program bound one of the ports picked for them), and the parties start
// again on fresh ports.
const localAttempt = 10 * time.Second

// localAttempts bounds the attempts of StartLocal.
const localAttempts = 5

// StartLocal starts three serving parties of m on loopback and returns once they serve.
func StartLocal(ctx context.Context, m *keras.Sequential, opts LocalOptions) (*Local, error) {
	for try := 1; ; try++ {
		attempt, cancel := context.WithTimeout(ctx, localAttempt)
		l, err := startLocalOnce(attempt, m, opts)
		cancel()
		// A port picked for the parties and taken by another program before they bound it
		// shows as a bind error, or as parties that cannot link up in time: start again.
		if err == nil || ctx.Err() != nil || try == localAttempts ||
			!(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.EADDRINUSE)) {
			return l, err
		}
	}
}

func startLocalOnce(ctx context.Context, m *keras.Sequential, opts LocalOptions) (*Local, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pki, err := deploy.NewPKI([secure.NumParties]string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}, time.Hour)
	if err != nil {
		return nil, err
	}
	ca, err := deploy.NewClientCA(time.Hour)
	if err != nil {
		return nil, err
	}
	l := &Local{pki: pki, ca: ca}
	var addrs [secure.NumParties]string
	for i := range addrs {
		if addrs[i], err = pickUDPAddr(); err != nil {
			return nil, err
		}
		if l.serveAt[i], err = pickUDPAddr(); err != nil {
			return nil, err
		}
	}
	for i := range l.cfgs {
		c := Config{
			Party:  i,
			Listen: l.serveAt[i],
			TLS:    ServerTLS(pki.Keys[i], ca.Pool()),
			Links:  dialLinks(pki.Config(i, addrs)),
			Logger: logger,
		}
		if i == 0 {
			c.Model, c.Output = m, opts.Output
		}
		if opts.Tune != nil {
			opts.Tune(&c)
		}
		l.cfgs[i] = c
	}
	for i := range l.cfgs {
		if err := l.StartParty(i); err != nil {
			l.Close()
			return nil, err
		}
	}
	// Wait until a session is up (the first client would otherwise be told so).
	for {
		up := true
		l.mu.Lock()
		for _, s := range l.servers {
			s.mu.Lock()
			up = up && s.info != nil
			s.mu.Unlock()
		}
		l.mu.Unlock()
		if up {
			return l, nil
		}
		select {
		case <-ctx.Done():
			l.Close()
			return nil, fmt.Errorf("serving: local parties: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// pickUDPAddr picks the local parties' addresses (a variable for tests).
var pickUDPAddr = freeUDPAddr

// freeUDPAddr returns a loopback UDP address that was free a moment ago.
func freeUDPAddr() (string, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	a := pc.LocalAddr().String()
	return a, pc.Close()
}

// StartParty (re)starts party i, as a restarted process would.
func (l *Local) StartParty(i int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.servers[i] != nil {
		return fmt.Errorf("serving: local party %d is running", i)
	}
	s, err := NewServer(l.cfgs[i])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ctx)
	}()
	l.servers[i], l.cancels[i], l.dones[i] = s, cancel, done
	return nil
}

// KillParty stops party i at once, as a crashed process: requests in flight fail.
func (l *Local) KillParty(i int) {
	l.mu.Lock()
	cancel, done := l.cancels[i], l.dones[i]
	l.servers[i], l.cancels[i], l.dones[i] = nil, nil, nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Server returns party i's server (nil while stopped).
func (l *Local) Server(i int) *Server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.servers[i]
}

// ClientConfig returns the configuration of a client of the deployment, with a certificate
// of its own from the deployment's client CA.
func (l *Local) ClientConfig(name string) (ClientConfig, error) {
	key, err := l.ca.Issue(name, time.Hour)
	if err != nil {
		return ClientConfig{}, err
	}
	return ClientConfig{Addrs: l.serveAt, Certs: l.pki.Certs, CA: l.pki.Pool(), Key: key}, nil
}

// NewClient returns a client of the deployment.
func (l *Local) NewClient(name string) (*Client, error) {
	cfg, err := l.ClientConfig(name)
	if err != nil {
		return nil, err
	}
	return NewClient(cfg)
}

// Shutdown stops the three parties in order, letting requests in flight finish.
func (l *Local) Shutdown(ctx context.Context) error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range secure.NumParties {
		if s := l.Server(i); s != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Shutdown(ctx); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	l.Close()
	return errors.Join(errs...)
}

// Close stops the three parties at once.
func (l *Local) Close() {
	for i := range secure.NumParties {
		l.KillParty(i)
	}
}
