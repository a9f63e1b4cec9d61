// Package deploy describes a three-party deployment on disk and turns it into QUIC links.
//
// A deployment is a directory made by [GenerateCerts] (the `gotfe certs` command):
//
//	ca.pem          the deployment CA's certificate (its key is not kept)
//	party<i>.pem    party i's certificate, naming the party (gotfe://party/i) and its host
//	party<i>.key    party i's private key (PKCS #8, mode 0600): copy it to party i only
//	parties.json    the parties: index, name, host:port and certificate of each
//
// parties.json is the same file on every host:
//
//	{
//	  "ca": "ca.pem",
//	  "parties": [
//	    {"index": 0, "name": "party0", "address": "10.0.0.1:7000", "cert": "party0.pem"},
//	    {"index": 1, "name": "party1", "address": "10.0.0.2:7000", "cert": "party1.pem"},
//	    {"index": 2, "name": "party2", "address": "10.0.0.3:7000", "cert": "party2.pem"}
//	  ]
//	}
//
// "ca" and "cert" are file paths, relative to the directory of parties.json, or PEM text; no
// two parties may share a host:port. Each party also has its own key file, party<i>.key beside
// parties.json unless told otherwise; a key file its group or others can read is used with a
// warning (log/slog) to chmod 600 it.
// [LoadParties] reads and checks the file; [Parties.Config] builds a party's
// [quic.Config]; [Endpoint] does both and links the party.
//
// [PKI] is the same material in memory, for one-process runs over loopback and for tests.
package deploy
