// Package host is the machine-level mechanics of etcdtest's local clusters:
// what one test process must agree on with every other process on the same
// machine, and what it must leave tidy however it ends.
//
//   - Ports reserved across processes, one flock per port (ReservePorts), so
//     `go test ./...` packages and `ginkgo -p` processes never pick the same.
//   - File locks that die with their process (TryLock, LockFile): what makes
//     reservations and the telling of leftovers crash-proof.
//   - Cluster directories whose owner lock tells a live run from a crashed
//     one (MakeClusterDir, RemoveClusterDir), and the sweep that kills a
//     crashed run's members and removes its data (SweepLeftovers).
//   - The reaper, which removes a process's directories the moment it ends,
//     for clusters nothing stops (Reaper).
//   - Whether a directory is on tmpfs (IsTmpfs), which decides where a WAL goes.
//
// It knows nothing of members or configs: etcdtest decides what to reserve
// and where its clusters live; host makes that hold across processes and
// crashes.
//
//	ports, err := host.ReservePorts(2 * size) // a client and a peer port each
//	if err != nil {
//		return err
//	}
//	defer ports.Release()
//	dir, owner, err := host.MakeClusterDir(dataDir)
//	...
//	host.RemoveClusterDir(dir, owner)
package host
