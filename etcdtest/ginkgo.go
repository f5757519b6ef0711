package etcdtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// stopTimeout bounds the cleanup the Ginkgo helpers register. Stop of a
// test cluster takes milliseconds; the bound only matters when something is
// badly wrong, and keeps an interrupted suite from hanging.
const stopTimeout = 20 * time.Second

// Launch starts a cluster from inside a Ginkgo setup node (BeforeSuite,
// BeforeAll, BeforeEach, SynchronizedBeforeSuite's all-process function),
// registers its Stop with DeferCleanup, and fails the node with the start
// error. When a spec fails while the cluster runs, the spec's report gets
// the cluster's diagnostics: raft leader, member states, log tails.
//
//	var cluster *etcdtest.Cluster
//	BeforeEach(func() { cluster = etcdtest.Launch(etcdtest.Config{Size: 1}) })
//
// Members are not bound to the node's context (Ginkgo cancels it when the
// node returns). Against an external cluster ($ETCDTEST_ENDPOINTS) the
// returned cluster is that one; use SkipIfExternal in specs that inject faults.
func Launch(cfg Config) *Cluster {
	ginkgo.GinkgoHelper()
	c := &Cluster{}
	launchInto(c, cfg)
	return c
}

func launchInto(c *Cluster, cfg Config) {
	ginkgo.GinkgoHelper()
	c.ginkgo = true
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a first managed build included
	defer cancel()
	if err := c.start(ctx, cfg); err != nil {
		ginkgo.Fail(err.Error())
	}
	registerLive(c)
	ginkgo.DeferCleanup(func(ctx ginkgo.SpecContext) error {
		unregisterLive(c)
		return c.Stop(ctx)
	}, ginkgo.NodeTimeout(stopTimeout))
}

// BeforeSuite registers the suite's BeforeSuite, which boots one cluster per
// Ginkgo parallel process, and returns a handle to it. Use it at the top
// level of a suite file:
//
//	var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
//
// It takes Ginkgo's single BeforeSuite slot (as a SynchronizedBeforeSuite:
// process 1 provisions the etcd binary once, then every process boots its
// own cluster). Suites that need their own BeforeSuite call Launch inside it
// instead. The handle fails with a clear message if used before the suite
// runs. The cluster is stopped after the suite, also when it is interrupted.
func BeforeSuite(cfg Config) *Cluster {
	at := types.NewCodeLocation(1) // the user's `var cluster = etcdtest.BeforeSuite(...)`
	c := &Cluster{pending: fmt.Sprintf("etcdtest: the cluster from etcdtest.BeforeSuite (%s) is used before the suite's BeforeSuite booted it: "+
		"use it inside It, BeforeEach, AfterEach or DeferCleanup, not while the spec tree is being built (in a Describe body or a package-level var)", at)}
	// Ginkgo names this node where it reports a second BeforeSuite: the
	// user's line, and what to do instead.
	at.CustomMessage = at.String() + " (etcdtest.BeforeSuite takes the suite's one BeforeSuite: for a BeforeSuite of your own, call etcdtest.Launch inside your own BeforeSuite instead)"
	ginkgo.SynchronizedBeforeSuite(func(ctx ginkgo.SpecContext) []byte {
		if hasEndpoints() {
			return nil
		}
		path, err := Provision(ctx, cfg)
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		return []byte(path)
	}, func(ctx ginkgo.SpecContext, path []byte) {
		cfg := cfg
		if len(path) > 0 {
			cfg.Binary = string(path)
		}
		launchInto(c, cfg)
	}, ginkgo.NodeTimeout(15*time.Minute), at)
	return c
}

// PerSpec gives every spec a fresh cluster of its own: it registers a
// BeforeEach that Launches a cluster of cfg into the returned handle, and
// the cluster is stopped after the spec. Use it at the top level of a suite
// file or in a container, like BeforeSuite:
//
//	var cluster = etcdtest.PerSpec(etcdtest.Config{})
//
// It is the hermetic choice: revisions start at 1, and no lease, user,
// alarm, membership change or fault outlives its spec. The shared cluster
// of BeforeSuite with Reset between specs is the cheaper choice when specs
// only need an empty key space (README: "One cluster or one per spec").
//
// PerSpec turns on Config.Spare, so after the first spec each spec takes a
// cluster that booted in the background while the spec before it ran;
// $ETCDTEST_SPARES=0 turns that off. The handle points at the current
// spec's cluster; using it outside a spec fails with a message saying so.
func PerSpec(cfg Config) *Cluster {
	at := types.NewCodeLocation(1) // the user's `var cluster = etcdtest.PerSpec(...)`
	c := &Cluster{pending: fmt.Sprintf("etcdtest: the cluster from etcdtest.PerSpec (%s) is used outside a spec: "+
		"each spec gets its own in a BeforeEach; use it inside It, BeforeEach, JustBeforeEach, AfterEach or DeferCleanup", at)}
	cfg.Spare = true
	ginkgo.BeforeEach(func() {
		ginkgo.GinkgoHelper()
		launchInto(c, cfg)
	}, at)
	return c
}

// SkipIfExternal skips the current spec when the cluster is an external one
// ($ETCDTEST_ENDPOINTS), whose processes and network the toolkit does not
// control. Call it first in specs that kill, pause or partition members.
func SkipIfExternal(c *Cluster) {
	if c.External() {
		ginkgo.Skip("needs a cluster booted by etcdtest: fault injection is not available against an external cluster ($ETCDTEST_ENDPOINTS)")
	}
}

// live is every cluster started by Launch or BeforeSuite and not stopped
// yet, in this process: a failed spec's report describes them. It is
// process-wide because Ginkgo's report hooks are.
var (
	liveMu sync.Mutex
	live   []*Cluster
)

func registerLive(c *Cluster) {
	liveMu.Lock()
	defer liveMu.Unlock()
	live = append(live, c)
}

// liveClusters returns a copy of the live clusters.
func liveClusters() []*Cluster {
	liveMu.Lock()
	defer liveMu.Unlock()
	return append([]*Cluster(nil), live...)
}

func unregisterLive(c *Cluster) {
	liveMu.Lock()
	defer liveMu.Unlock()
	for i, l := range live {
		if l == c {
			live = append(live[:i], live[i+1:]...)
			return
		}
	}
}

// attachDiagnostics adds each live cluster's diagnostics to a failed spec's report.
func attachDiagnostics() {
	if !ginkgo.CurrentSpecReport().Failed() {
		return
	}
	liveMu.Lock()
	clusters := append([]*Cluster(nil), live...)
	liveMu.Unlock()
	for i, c := range clusters {
		name := "etcd cluster"
		if len(clusters) > 1 {
			name = fmt.Sprintf("etcd cluster %d of %d", i+1, len(clusters))
		}
		ginkgo.AddReportEntry(name, c.Diagnostics(), ginkgo.ReportEntryVisibilityFailureOrVerbose)
	}
}

// Registering the hook when the package loads is the only way to reach
// every spec of a suite from a cluster launched at run time (Launch inside
// BeforeSuite or BeforeAll). It does nothing unless a cluster is live and
// the spec failed, and nothing at all outside a Ginkgo suite.
var _ = ginkgo.AfterEach(attachDiagnostics)

// After a second ^C (or an abort) Ginkgo skips cleanup nodes but still runs
// reporting nodes: stop every live cluster there, so an interrupted suite
// leaves no data behind either. After a first ^C this runs before the
// suite's own cleanup, which then finds the clusters stopped.
//
// A suite timeout ends the suite too, but runs its cleanup as usual: the
// live clusters are left to it, and only the spares, which no cleanup
// node of the suite stops, are stopped here.
var _ = ginkgo.ReportAfterEach(func(r ginkgo.SpecReport) {
	switch {
	case r.State.Is(types.SpecStateInterrupted | types.SpecStateAborted):
		stopLive()
	case r.State.Is(types.SpecStateTimedout) && strings.HasPrefix(r.Failure.Message, "A suite timeout occurred"):
		spares.close()
	}
})

func stopLive() {
	clusters := liveClusters()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); spares.close() }()
	for _, c := range clusters {
		c.Stop(ctx)
	}
	wg.Wait()
}
