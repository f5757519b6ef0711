package etcdtest

// Rolling version changes: a member restarts on another etcd release with
// its data, the way operators upgrade a cluster one member at a time. etcd
// runs a cluster at the lowest version its members run (the cluster
// version), so it moves only when the last member has moved; in between the
// cluster is mixed, which is what a spec of an upgrade wants to exercise.
//
// etcd moves one minor release at a time (3.5 → 3.6 → 3.7); a member that
// skips one, or goes below the cluster version, does not start. RestartOn
// refuses both up front, with the reason, instead of leaving a member that
// exits with a storage-version error in its log.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
)

// Version returns the etcd release the member's process runs ("v3.7.3"):
// the cluster's (Cluster.Version) unless RestartOn changed it.
func (m *Member) Version() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bin.Version.String()
}

// RestartOn restarts the member, with its name, URLs and data, on another
// etcd release — a version ("v3.7.3": a managed build, made if needed) or
// the path of an etcd executable — and returns, like Restart, once it
// serves again and the cluster has settled. It is one step of a rolling
// upgrade:
//
//	for _, m := range cluster.Members() {
//		Expect(m.RestartOn(ctx, "v3.7.3")).To(Succeed())
//	}
//
// etcd changes one minor release at a time and never below the cluster
// version (Cluster.ClusterVersion): 3.5 → 3.6 → 3.7. A release that skips
// one, or lies below the cluster version, is refused with an error before
// the member is touched. ctx bounds a managed build (a minute the first
// time) and the wait; without a deadline, Config.StartTimeout bounds the
// wait.
func (m *Member) RestartOn(ctx context.Context, release string) error {
	l, err := m.restartable("RestartOn")
	if err != nil {
		return err
	}
	bin, err := binaryFor(ctx, release)
	if err != nil {
		return fmt.Errorf("etcdtest: RestartOn(%s, %q): %w", m.name, release, err)
	}
	m.mu.Lock()
	cur := m.bin.Version
	m.mu.Unlock()
	if bin.Version.Major != cur.Major || bin.Version.Minor > cur.Minor+1 || bin.Version.Minor+1 < cur.Minor {
		return fmt.Errorf("etcdtest: RestartOn(%s, %q): etcd changes one minor release at a time, and %s → %s is %s; go through each release in between (e.g. v3.5 → v3.6 → v3.7)",
			m.name, release, cur, bin.Version, jump(cur, bin.Version))
	}
	if bin.Version.Minor < cur.Minor {
		cv, err := l.clusterVersion(ctx)
		if err != nil {
			return fmt.Errorf("etcdtest: RestartOn(%s, %q): read the cluster version: %w", m.name, release, err)
		}
		if below(bin.Version, cv) {
			return fmt.Errorf("etcdtest: RestartOn(%s, %q): the cluster runs at version %s, and etcd refuses a member below it; "+
				"downgrading a cluster takes etcd's downgrade procedure first (etcdctl downgrade enable %d.%d), which the toolkit does not run for you",
				m.name, release, cv, bin.Version.Major, bin.Version.Minor)
		}
	}
	return m.restart(ctx, l, &bin, "RestartOn("+m.name+", "+bin.Version.String()+")")
}

func jump(from, to version) string {
	if from.Major != to.Major {
		return "a change of major release"
	}
	if to.Minor > from.Minor {
		return fmt.Sprintf("%d minor releases up", to.Minor-from.Minor)
	}
	return fmt.Sprintf("%d minor releases down", from.Minor-to.Minor)
}

// below reports whether release v lies below cluster version cv ("3.6.0").
func below(v version, cv string) bool {
	c, err := provision.ParseVersion(cv)
	return err == nil && (v.Major < c.Major || v.Major == c.Major && v.Minor < c.Minor)
}

// binaryFor resolves a release ("v3.6.16") to a managed build, or a path to
// that executable.
func binaryFor(ctx context.Context, release string) (etcdBinary, error) {
	if strings.ContainsRune(release, '/') {
		return provision.Inspect(ctx, release, "the path given")
	}
	v, err := provision.ParseVersion(release)
	if err != nil {
		return etcdBinary{}, err
	}
	if !v.AtLeast(3, 5) {
		return etcdBinary{}, fmt.Errorf("managed builds start at v3.5; for etcd 3.4 pass the path of an installed etcd (Debian: /usr/bin/etcd)")
	}
	return provision.Managed(ctx, release)
}

// ClusterVersion returns the version the cluster runs at, as etcd reports
// it ("3.7.0"): the lowest minor release among its members, which moves
// once the last member of a rolling upgrade runs the new release.
func (c *Cluster) ClusterVersion(ctx context.Context) (string, error) {
	l, err := c.local("ClusterVersion")
	if err != nil {
		return "", err
	}
	return l.clusterVersion(ctx)
}

// clusterVersion asks a running member's /version endpoint; etcd has no
// gRPC call that says it.
func (l *local) clusterVersion(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.CallTimeout)
	defer cancel()
	var tlsCfg *tls.Config
	if l.sec.tls() {
		tlsCfg = l.sec.client.Clone()
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true}, Timeout: time.Second}
	var last error
	for _, m := range l.members() {
		if m.State() != Running {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.ClientURL()+"/version", nil)
		if err != nil {
			return "", err
		}
		resp, err := hc.Do(req)
		if err != nil {
			last = err
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		var v struct {
			Cluster string `json:"etcdcluster"`
		}
		if err == nil {
			err = json.Unmarshal(body, &v)
		}
		if err != nil || v.Cluster == "" || v.Cluster == "not_decided" {
			last = fmt.Errorf("member %s: /version says %q", m.name, body)
			continue
		}
		return v.Cluster, nil
	}
	if last == nil {
		last = fmt.Errorf("no member is running")
	}
	return "", fmt.Errorf("etcdtest: cluster version: %w", last)
}
