// Package failpoint is a client of gofail's HTTP endpoint, the one a
// member of a cluster with Config.Failpoints serves on its own loopback
// port (GOFAIL_HTTP): list the failpoints, arm one with an action in
// gofail's syntax, disarm it. It checks an action against gofail's grammar
// before sending it, since the endpoint answers a malformed one only with
// "could not parse terms". It knows nothing of clusters.
//
//	fp := failpoint.New("127.0.0.1:23790")
//	if err := fp.Set(ctx, "raftAfterSave", "panic"); err != nil {
//		return err // errors.Is(err, failpoint.ErrUnknown): the binary lacks it
//	}
//	armed, err := fp.List(ctx) // name -> action, "" when not armed
package failpoint
