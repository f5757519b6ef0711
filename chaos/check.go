package chaos

// A check after a heal is a liveness question — "is exactly one node elected
// again?", "is the service registered again?" — that may take a moment to
// become true. Within asks it the Gomega way, polling assertions until they
// pass, so a suite writes the assertions and no poll loop. It runs them on a
// Gomega of its own (gomega.NewGomega with a fail handler that keeps the
// message), never on the global one, so a failed check is an error Run
// returns after healing, not a panic that would unwind Run before it healed.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onsi/gomega"
)

// withinPolling is how often Within tries its assertions again: often
// enough that a check after a heal costs no more than the recovery it waits
// for.
const withinPolling = 5 * time.Millisecond

// Within is a Check (Options.Check) that passes once every assertion in
// assertion passes, tried every 5 ms for at most timeout (and no longer than
// Run's ctx):
//
//	Check: chaos.Within(5*time.Second, func(g gomega.Gomega) {
//		g.Expect(nodes).To(matchers.HaveExactlyOneElected())
//		g.Expect(registered.Load()).To(BeTrue(), "the service is registered again")
//	}),
//
// Make the assertions on g, the Gomega passed in: an assertion on the
// global Expect fails the spec at once instead of being tried again (Run
// still heals before the failure reaches the spec). The error is Gomega's
// own message: "Timed out after 5.001s. The function passed to Eventually
// failed at <your line> with: <the last failed assertion>".
func Within(timeout time.Duration, assertion func(g gomega.Gomega)) func(ctx context.Context) error {
	if assertion == nil {
		panic("chaos.Within: no assertion: pass a func(g gomega.Gomega) that makes its assertions on g")
	}
	if timeout <= 0 {
		panic(fmt.Sprintf("chaos.Within: timeout %v: give the assertions a positive time to pass in, e.g. 5*time.Second", timeout))
	}
	return func(ctx context.Context) error {
		var failure string
		g := gomega.NewGomega(func(message string, _ ...int) { failure = message })
		ok := g.Eventually(ctx, assertion).WithTimeout(timeout).WithPolling(withinPolling).Should(gomega.Succeed())
		if ok {
			return nil
		}
		if failure == "" {
			failure = fmt.Sprintf("the assertions did not pass within %v", timeout)
		}
		return errors.New(failure)
	}
}

// runCheck runs check after a step. A check that panics (an assertion on
// the global Gomega under Ginkgo fails by panicking) does so only after
// heal ran, so Run's promise to heal holds whatever the check does.
func runCheck(ctx context.Context, check func(context.Context) error, heal func(context.Context) error) (err error) {
	defer func() {
		if e := recover(); e != nil {
			if herr := heal(context.WithoutCancel(ctx)); herr != nil {
				e = errors.Join(fmt.Errorf("%v", e), fmt.Errorf("chaos: healing after the check panicked: %w", herr))
			}
			panic(e)
		}
	}()
	return check(ctx)
}
