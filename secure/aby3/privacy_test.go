package aby3_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// msgOverhead is the number of bytes a message carries besides its payload of ring words
// (framing added by the party); msgBytes is the size of a message of words payload words.
const msgOverhead = aby3.MessageOverhead

func msgBytes(words int) int { return msgOverhead + 8*words }

// tw is the traffic of msgs messages carrying words payload words in all.
func tw(msgs, words int) traffic { return traffic{msgs, msgs*msgOverhead + 8*words} }

// payload returns the ring words of a received message.
func payload(m []byte) []uint64 {
	b := m[:len(m)-msgOverhead]
	v := make([]uint64, len(b)/8)
	for i := range v {
		for k := range 8 {
			v[i] |= uint64(b[8*i+k]) << (8 * k)
		}
	}
	return v
}

// traffic is what one party received during one operation.
type traffic struct{ Msgs, Bytes int }

// session is one run of the privacy program: per party, the parts of its view (the messages
// it received after set-up, and the share components of the results) and, per operation,
// what each party received and what all sent.
type session struct {
	parts   [3][][]uint64
	ops     []string
	recv    [][3]traffic
	sent    []int64 // bytes sent by all parties, from their Stats
	revealT [3][]float64
}

const privN = 2048 // elements per operation

// privacyProgram runs, on the secrets x (owned by party 0) and y (party 1): Share, Share,
// Mul, a comparison (LessThan), conversions (bit injection and A2B), an approximation
// (Sigmoid), ArgMax over rows of four, and Reveal of x·y to party 2 alone. Party randomness
// comes from a fixed seed, so that the run is reproducible.
func privacyProgram(t *testing.T, x, y []float64, seed uint64) session {
	t.Helper()
	nets := launch.MemNetworks()
	recs := make([]*recorder, 3)
	for i := range nets {
		recs[i] = &recorder{Network: nets[i]}
		nets[i] = recs[i]
	}
	var s session
	var setup [3]int
	type mark struct {
		name  string
		msgs  int
		bytes int
		sent  int64
	}
	var marks [3][]mark
	var comps [3][][]uint64
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := launch.Run(ctx, nets, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		var sd [32]byte
		sd[0], sd[1], sd[2] = byte(id), byte(seed), 0x71
		p, err := aby3.NewParty(ctx, id, net, aby3.Config{Rand: rand.NewChaCha8(sd), Params: adderParams})
		if err != nil {
			return err
		}
		rec := recs[id]
		count := func() (int, int) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			b := 0
			for _, m := range rec.recv {
				b += len(m)
			}
			return len(rec.recv), b
		}
		setup[id], _ = count()
		at := func(name string) {
			m, b := count()
			marks[id] = append(marks[id], mark{name, m, b, p.Stats().BytesSent})
		}
		at("start")
		keep := func(sh *aby3.Shared) {
			a, b := sh.Components()
			comps[id] = append(comps[id], slices.Clone(a), slices.Clone(b))
		}
		own := func(o secure.PartyID, v []float64) []float64 {
			if id == o {
				return v
			}
			return nil
		}
		sx, err := p.Share(0, own(0, x), []int{privN})
		if err != nil {
			return err
		}
		at("share by 0")
		sy, err := p.Share(1, own(1, y), []int{privN})
		if err != nil {
			return err
		}
		at("share by 1")
		z, err := p.Mul(sx, sy)
		if err != nil {
			return err
		}
		keep(z)
		at("mul")
		lt, err := p.LessThan(sx, sy)
		if err != nil {
			return err
		}
		at("less than")
		ltA, err := p.BitToArith(lt)
		if err != nil {
			return err
		}
		keep(ltA)
		at("bit to arith")
		if _, err = p.A2B(sx); err != nil {
			return err
		}
		at("a2b")
		sg, err := p.Sigmoid(sx)
		if err != nil {
			return err
		}
		keep(sg)
		at("sigmoid")
		rows, err := p.Reshape(sy, privN/4, 4)
		if err != nil {
			return err
		}
		am, err := p.ArgMax(rows, 1)
		if err != nil {
			return err
		}
		keep(am)
		at("argmax")
		out, err := p.Reveal(z, 2)
		if err != nil {
			return err
		}
		s.revealT[id] = out
		at("reveal to 2")
		return nil
	})
	require.NoError(t, err)
	for id := range 3 {
		for _, m := range recs[id].recv[setup[id]:] {
			s.parts[id] = append(s.parts[id], payload(m))
		}
		s.parts[id] = append(s.parts[id], comps[id]...)
	}
	for k := 1; k < len(marks[0]); k++ {
		s.ops = append(s.ops, marks[0][k].name)
		var r [3]traffic
		var sent int64
		for id := range 3 {
			r[id] = traffic{marks[id][k].msgs - marks[id][k-1].msgs, marks[id][k].bytes - marks[id][k-1].bytes}
			sent += marks[id][k].sent - marks[id][k-1].sent
		}
		s.recv = append(s.recv, r)
		s.sent = append(s.sent, sent)
	}
	return s
}

// byteChi2 returns the chi-square statistic, over 256 bins, of the byte at bit offset off of
// the values.
func byteChi2(v []uint64, off int) float64 {
	var bins [256]int
	for _, x := range v {
		bins[(x>>off)&0xff]++
	}
	e := float64(len(v)) / 256
	c := 0.0
	for _, k := range bins {
		c += (float64(k) - e) * (float64(k) - e) / e
	}
	return c
}

// uniformish reports whether the low w bits of v look uniform: the chi-square of their top
// byte and of the byte in their middle below 400 (255 degrees of freedom: exceeded by uniform
// data with probability below 1e-8).
func uniformish(v []uint64, w int) bool {
	return byteChi2(v, w-8) < 400 && byteChi2(v, w/2) < 400
}

// A party's view must not combine into the secrets: for every pair of parts of its view
// (messages received and share components) of the same length, their sum, difference and
// xor are either uniform (checked on the low bits both parts are uniform on) for every
// secret, or the same values for every secret (two copies of one random value, whose
// difference is 0). An input owner that also sent its mask r to the next party would give
// that party v - r and r, whose sum is the secret: constant, and different for each secret.
// Single parts are checked in TestViewIsUniform.
func TestViewPairsRevealNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 0x9a1))
	rnd := func() []float64 { return randValues(r, privN, -8, 10) }
	secrets := [][2][]float64{
		{make([]float64, privN), make([]float64, privN)},
		{fill(privN, 3000.5), fill(privN, -2047.25)},
		{rnd(), rnd()},
	}
	var runs []session
	for _, sc := range secrets {
		runs = append(runs, privacyProgram(t, sc[0], sc[1], 5))
	}
	ops := []struct {
		name string
		f    func(a, b uint64) uint64
	}{
		{"sum", func(a, b uint64) uint64 { return a + b }},
		{"difference", func(a, b uint64) uint64 { return a - b }},
		{"xor", func(a, b uint64) uint64 { return a ^ b }},
	}
	checked := 0
	for id := range 3 {
		parts := runs[0].parts[id]
		for _, run := range runs[1:] {
			require.Len(t, run.parts[id], len(parts), "party %d sees as many parts for every secret", id)
		}
		for i := range parts {
			for j := i + 1; j < len(parts); j++ {
				if len(parts[i]) != len(parts[j]) || len(parts[i]) < 256 {
					continue
				}
				w := min(width(parts[i]), width(parts[j]))
				for _, op := range ops {
					combos := make([][]uint64, len(runs))
					uniform := 0
					for k, run := range runs {
						a, b := run.parts[id][i], run.parts[id][j]
						c := make([]uint64, len(a))
						for e := range a {
							c[e] = op.f(a[e], b[e])
						}
						combos[k] = c
						if uniformish(c, w) {
							uniform++
						}
					}
					checked++
					if uniform == len(runs) {
						continue
					}
					for k := 1; k < len(runs); k++ {
						require.Equal(t, combos[0], combos[k],
							"party %d: the %s of view parts %d and %d is not uniform and depends on the secrets", id, op.name, i, j)
					}
				}
			}
		}
	}
	t.Logf("%d pair combinations checked", checked)
	require.Greater(t, checked, 1000)
}

// The messages and bytes each party receives in each operation, for n = 2048 elements.
//
//   - Share: one message of n words to the owner's next party, nothing to the others.
//   - Reveal to one party: one message of n words from the recipient's previous party;
//     nothing, not even a message, to the others.
//   - Mul (two rounds, the resharing fused with the exact truncation by 16 bits, see
//     finishTrunc): party 0 receives the resharing from party 2 (n words); party 1 the
//     resharing from party 0 (n), party 0's two 16-bit lanes per value (n/2 words) and party
//     2's lane (n/4); party 2 party 0's truncated half with its two lanes in one message
//     (n + n/2) and party 1's lane (n/4).
//   - LessThan (MSB by a parallel-prefix adder), BitToArith, A2B, Sigmoid (a clamp, products
//     and truncations) and ArgMax over rows of 4 (all pairs compared at once, their bits ANDed): the
//     message counts and words measured on this implementation, pinned so that an extra, a
//     missing or a larger message fails.
//
// Every byte a party receives is one that a peer's Stats counted as sent, and the traffic
// does not depend on the secrets.
func TestViewTrafficPinned(t *testing.T) {
	const n = privN
	want := map[string][3]traffic{
		"share by 0":   {{}, tw(1, n), {}},
		"share by 1":   {{}, {}, tw(1, n)},
		"mul":          {tw(1, n), tw(3, n+n/2+n/4), tw(2, n+n/2+n/4)},
		"less than":    {tw(6, 4032), tw(8, 8128), tw(8, 8128)},
		"bit to arith": {{}, tw(2, 3*n), tw(2, 3*n)},
		"a2b":          {tw(6, 22528), tw(8, 26624), tw(8, 26624)},
		"sigmoid":      {tw(12, 32640), tw(26, 59264), tw(23, 67456)},
		"argmax":       {tw(8, 10144), tw(12, 22432), tw(12, 22432)},
		"reveal to 2":  {{}, {}, tw(1, n)},
	}
	r := rand.New(rand.NewPCG(4, 0x9a2))
	var first [][3]traffic
	for k, sc := range [][2][]float64{
		{make([]float64, n), make([]float64, n)},
		{randValues(r, n, -8, 10), randValues(r, n, -8, 10)},
	} {
		s := privacyProgram(t, sc[0], sc[1], uint64(k+7))
		if k == 0 {
			first = s.recv
		} else {
			assert.Equal(t, first, s.recv, "traffic does not depend on the secrets")
		}
		require.Len(t, s.ops, len(want))
		for i, op := range s.ops {
			got := s.recv[i]
			total := 0
			for _, g := range got {
				total += g.Bytes
			}
			assert.EqualValues(t, s.sent[i], total, "%s: every byte received was counted as sent", op)
			w, ok := want[op]
			require.True(t, ok, op)
			assert.Equal(t, w, got, "%s", op)
		}
		// Reveal to party 2: the others get nothing back and received nothing.
		assert.Nil(t, s.revealT[0])
		assert.Nil(t, s.revealT[1])
		assert.Len(t, s.revealT[2], n)
	}
}

// Revealing to one party sends one message of n words to it, from its previous party, and
// nothing to the others, for each recipient; revealing to all sends one to each.
func TestRevealToOneReachesOnlyTheRecipient(t *testing.T) {
	const n = 64
	for _, to := range []secure.PartyID{0, 1, 2, -1} {
		nets := launch.MemNetworks()
		recs := make([]*recorder, 3)
		for i := range nets {
			recs[i] = &recorder{Network: nets[i]}
			nets[i] = recs[i]
		}
		var got [3]traffic
		var out [3][]float64
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := launch.Run(ctx, nets, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
			p, err := aby3.NewParty(ctx, id, net, aby3.Config{})
			if err != nil {
				return err
			}
			x, err := p.Public(fill(n, 1.25), []int{n})
			if err != nil {
				return err
			}
			// Re-randomise, so that every component is in use.
			if x, err = p.Mul(x, x); err != nil {
				return err
			}
			count := func() traffic {
				recs[id].mu.Lock()
				defer recs[id].mu.Unlock()
				c := traffic{Msgs: len(recs[id].recv)}
				for _, m := range recs[id].recv {
					c.Bytes += len(m)
				}
				return c
			}
			before := count()
			if out[id], err = p.Reveal(x, to); err != nil {
				return err
			}
			after := count()
			got[id] = traffic{after.Msgs - before.Msgs, after.Bytes - before.Bytes}
			return nil
		})
		cancel()
		require.NoError(t, err)
		for id := range secure.PartyID(3) {
			if to == -1 || id == to {
				assert.Equal(t, tw(1, n), got[id], "reveal to %d: party %d", to, id)
				assert.InDeltaSlice(t, fill(n, 1.5625), out[id], 1e-4, "reveal to %d: party %d", to, id)
			} else {
				assert.Equal(t, traffic{}, got[id], "reveal to %d: party %d must receive nothing", to, id)
				assert.Nil(t, out[id], "reveal to %d: party %d", to, id)
			}
		}
	}
}
