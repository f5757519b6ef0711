package matchers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// HaveAlarm succeeds when the cluster has raised an alarm that matches
// expected: an alarm name as etcd spells it ("NOSPACE", "CORRUPT") or a
// Gomega matcher of the name:
//
//	Expect(cluster.ExhaustSpace(ctx)).To(Succeed())
//	Expect(cluster).To(matchers.HaveAlarm("NOSPACE"))
//	Expect(cluster.RecoverSpace(ctx)).To(Succeed())
//	Expect(cluster).NotTo(matchers.HaveAlarm(Not(BeEmpty()))) // no alarm at all
//
// The actual must be a *etcdtest.Cluster. Every poll lists the alarms
// through the cluster's shared client (a linearizable request, bounded by
// QueryTimeout). A list that cannot be read — the quorum is lost, the
// cluster is stopped — is an error, not a mismatch: Expect and Consistently
// fail in both forms and Eventually polls again ("matchers.HaveAlarm:
// cannot read the alarms of etcd cluster (node1, node2, node3): ..."). The
// failure message lists the alarms and the member that raised each.
func HaveAlarm(expected any) types.GomegaMatcher {
	return &haveAlarmMatcher{expected: expect(expected)}
}

type haveAlarmMatcher struct {
	expected expectation

	mu     sync.Mutex
	what   string  // "etcd cluster (node1, node2, node3)"
	alarms []alarm // what the last Match read
}

// alarm is one alarm a member raised.
type alarm struct {
	name   string // "NOSPACE"
	member string // the member that raised it, by name where known
}

func (a alarm) String() string { return a.name + " (raised by " + a.member + ")" }

func (m *haveAlarmMatcher) Match(actual any) (bool, error) {
	c, ok := actual.(*etcdtest.Cluster)
	if !ok || c == nil {
		return false, fmt.Errorf("HaveAlarm matcher expects a *etcdtest.Cluster. Got:\n%s", formatActual(actual))
	}
	what := clusterName(c.Members())
	alarms, err := readAlarms(c)
	m.mu.Lock()
	m.what, m.alarms = what, alarms
	m.mu.Unlock()
	if err != nil {
		return false, cannotRead("HaveAlarm", "the alarms of "+what, err)
	}
	for _, a := range alarms {
		ok, err := m.expected.matcher.Match(a.name)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// readAlarms lists c's alarms once.
func readAlarms(c *etcdtest.Cluster) ([]alarm, error) {
	if c.Stopped() {
		return nil, errors.New("the cluster is stopped")
	}
	ctx, cancel := context.WithTimeout(c.Client().Ctx(), QueryTimeout)
	defer cancel()
	resp, err := c.Client().AlarmList(ctx)
	if err != nil {
		return nil, err
	}
	alarms := make([]alarm, len(resp.Alarms))
	for i, a := range resp.Alarms {
		alarms[i] = alarm{name: a.Alarm.String(), member: fmt.Sprintf("%x", a.MemberID)}
		if mem := c.MemberByID(a.MemberID); mem != nil {
			alarms[i].member = mem.Name()
		}
	}
	return alarms, nil
}

func describeAlarms(alarms []alarm) string {
	if len(alarms) == 0 {
		return "none"
	}
	s := make([]string, len(alarms))
	for i, a := range alarms {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func (m *haveAlarmMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("Expected %s to have an alarm matching\n%s\nbut its alarms are: %s", m.what, m.expected, describeAlarms(m.alarms))
}

func (m *haveAlarmMatcher) NegatedFailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("Expected %s to have no alarm matching\n%s\nbut its alarms are: %s", m.what, m.expected, describeAlarms(m.alarms))
}

// MatchMayChangeInTheFuture is false for a stopped cluster and for an actual
// of another type.
func (m *haveAlarmMatcher) MatchMayChangeInTheFuture(actual any) bool {
	c, ok := actual.(*etcdtest.Cluster)
	return ok && c != nil && !c.Stopped()
}
