package transport

import "sync/atomic"

// Stats are the traffic counters of one party's links.
type Stats struct {
	BytesSent        int64
	BytesReceived    int64
	MessagesSent     int64
	MessagesReceived int64
}

// Sub returns s - o, the traffic between two readings.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		BytesSent:        s.BytesSent - o.BytesSent,
		BytesReceived:    s.BytesReceived - o.BytesReceived,
		MessagesSent:     s.MessagesSent - o.MessagesSent,
		MessagesReceived: s.MessagesReceived - o.MessagesReceived,
	}
}

// Counters accumulates Stats safely from several goroutines.
type Counters struct {
	bytesSent, bytesReceived, messagesSent, messagesReceived atomic.Int64
}

// AddSent records one sent message of n payload bytes.
func (c *Counters) AddSent(n int) {
	c.bytesSent.Add(int64(n))
	c.messagesSent.Add(1)
}

// AddReceived records one received message of n payload bytes.
func (c *Counters) AddReceived(n int) {
	c.bytesReceived.Add(int64(n))
	c.messagesReceived.Add(1)
}

// Stats returns a snapshot of the counters.
func (c *Counters) Stats() Stats {
	return Stats{
		BytesSent:        c.bytesSent.Load(),
		BytesReceived:    c.bytesReceived.Load(),
		MessagesSent:     c.messagesSent.Load(),
		MessagesReceived: c.messagesReceived.Load(),
	}
}
