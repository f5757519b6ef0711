package chaos_test

// The motivating case of the user's own operations (issue 19): etcd's
// concurrency.NewSTM as a bank. Three clients move money between five
// accounts while a fourth reads them all, under a seeded chaos.Run; every
// transfer and every read is recorded as an operation of the bank's API and
// checked against chaos.Bank. At ReadCommitted the STM validates nothing
// (as its doc says): two transfers that read one balance both write it, one
// over the other, so money appears and vanishes and the check must fail.
// The reader fetches all five accounts in one request (WithPrefetch), so
// every wrong total it sees is money the store really lost or made, not a
// read torn between transfers. The three other isolation levels must keep
// the total in every snapshot.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

const (
	bankMovers   = 3               // clients that transfer
	bankBalance  = 100             // each account's opening balance
	bankSeed     = 19              // chaos.Run's seed: one schedule for every level
	bankDuration = 8 * time.Second // how long the faults and the traffic last
	bankCallTime = 2 * time.Second // one transfer or read, retries of a conflicting STM included
	bankTimeout  = 2 * time.Minute // a whole spec: the run, its heal, the check
	bankMaxCalls = 20_000          // per client: the loops end by time, this only bounds them
	bankTotal    = bankBalance * 5 // five accounts
)

var bankAccounts = []string{"a", "b", "c", "d", "e"}

// bankRuns makes each run's keys unique: the suite's cluster is shared
// between specs, and the table's entries run against it one after another.
var bankRuns atomic.Int64

// errOverdraft refuses a transfer from an account without enough money:
// the STM returns it without committing, so the call had no effect.
var errOverdraft = errors.New("not enough money")

// stmBank is the bank under test: accounts under prefix, one STM per
// operation at one isolation level.
type stmBank struct {
	prefix  string
	iso     concurrency.Isolation
	refused *atomic.Int64 // transfers refused for an overdraft (Fail leaves them out of the history)
	errs    *errorTally   // why calls were unknown, for the report
}

// errorTally counts errors by what failed and why.
type errorTally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *errorTally) add(what string, err error) {
	msg := err.Error()
	if len(msg) > 60 {
		msg = msg[:60] + "..."
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	t.n[what+": "+msg]++
}

func (t *errorTally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for k, n := range t.n {
		lines = append(lines, fmt.Sprintf("%dx %s", n, k))
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

func (b stmBank) key(account string) string { return b.prefix + account }

func (b stmBank) keys() []string {
	keys := make([]string, len(bankAccounts))
	for i, a := range bankAccounts {
		keys[i] = b.key(a)
	}
	return keys
}

// transfer moves t.Amount from t.From to t.To in one STM, refusing an
// overdraft.
func (b stmBank) transfer(ctx context.Context, cli *clientv3.Client, t chaos.Transfer) error {
	ctx, cancel := context.WithTimeout(ctx, bankCallTime)
	defer cancel()
	_, err := concurrency.NewSTM(cli, func(s concurrency.STM) error {
		from, err := readBalance(s, b.key(t.From))
		if err != nil {
			return err
		}
		to, err := readBalance(s, b.key(t.To))
		if err != nil {
			return err
		}
		if from < t.Amount {
			return errOverdraft
		}
		s.Put(b.key(t.From), strconv.FormatInt(from-t.Amount, 10))
		s.Put(b.key(t.To), strconv.FormatInt(to+t.Amount, 10))
		return nil
	}, concurrency.WithIsolation(b.iso), concurrency.WithAbortContext(ctx))
	return err
}

// balances reads every account in one read-only STM, fetching them in one
// request (four round trips fewer; at ReadCommitted, five separate reads
// would also tear between transfers).
func (b stmBank) balances(ctx context.Context, cli *clientv3.Client) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, bankCallTime)
	defer cancel()
	var bs map[string]int64
	_, err := concurrency.NewSTM(cli, func(s concurrency.STM) error {
		bs = make(map[string]int64, len(bankAccounts)) // anew on every retry
		for _, a := range bankAccounts {
			n, err := readBalance(s, b.key(a))
			if err != nil {
				return err
			}
			bs[a] = n
		}
		return nil
	}, concurrency.WithIsolation(b.iso), concurrency.WithAbortContext(ctx), concurrency.WithPrefetch(b.keys()...))
	return bs, err
}

func readBalance(s concurrency.STM, key string) (int64, error) {
	v := s.Get(key)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("account %s holds %q, not a balance: %w", key, v, err)
	}
	return n, nil
}

// move is one mover's loop: random transfers between random accounts
// until ctx ends, each recorded.
func (b stmBank) move(ctx context.Context, api *chaos.API, client int, cli *clientv3.Client) {
	rng := rand.New(rand.NewPCG(bankSeed, uint64(client)))
	for n := 0; n < bankMaxCalls && ctx.Err() == nil; n++ {
		from := rng.IntN(len(bankAccounts))
		to := (from + 1 + rng.IntN(len(bankAccounts)-1)) % len(bankAccounts)
		t := chaos.Transfer{From: bankAccounts[from], To: bankAccounts[to], Amount: 1 + rng.Int64N(20)}
		call := api.Call(client, t)
		switch err := b.transfer(ctx, cli, t); {
		case err == nil:
			call.Return(nil)
		case errors.Is(err, errOverdraft):
			call.Fail()
			b.refused.Add(1)
		default:
			call.Unknown()
			b.errs.add("transfer", err)
		}
	}
}

// read is the reader's loop: every account in one snapshot, until ctx
// ends, each recorded.
func (b stmBank) read(ctx context.Context, api *chaos.API, client int, cli *clientv3.Client) {
	for n := 0; n < bankMaxCalls && ctx.Err() == nil; n++ {
		call := api.Call(client, chaos.ReadBalances{})
		if bs, err := b.balances(ctx, cli); err != nil {
			call.Unknown()
			b.errs.add("read", err)
		} else {
			call.Return(bs)
		}
	}
}

// bankStats counts what the recorded calls did, for the report.
type bankStats struct {
	transfers, unknown         int     // transfers: returned; unknown outcome
	reads, wrong, unknownReads int     // reads that returned; of them, with a wrong total; reads that did not return
	wrongTotals                []int64 // the first few wrong totals
}

func countBank(ops []porcupine.Operation) bankStats {
	var s bankStats
	for _, op := range ops {
		switch op.Input.(type) {
		case chaos.Transfer:
			if op.Metadata != nil {
				s.unknown++
			} else {
				s.transfers++
			}
		case chaos.ReadBalances:
			bs, ok := op.Output.(map[string]int64)
			if !ok {
				s.unknownReads++
				continue
			}
			s.reads++
			if t := totalOf(bs); t != bankTotal {
				s.wrong++
				if len(s.wrongTotals) < 5 {
					s.wrongTotals = append(s.wrongTotals, t)
				}
			}
		}
	}
	return s
}

func totalOf(bs map[string]int64) int64 {
	var t int64
	for _, b := range bs {
		t += b
	}
	return t
}

var _ = Describe("a bank on concurrency.NewSTM under chaos", func() {
	DescribeTable("keeps the total in every snapshot, or fails the bank check",
		func(ctx SpecContext, iso concurrency.Isolation, safe bool) {
			etcdtest.SkipIfExternal(cluster)
			start := time.Now()
			bank := stmBank{
				prefix:  fmt.Sprintf("/chaos-bank/%d-%d/", GinkgoParallelProcess(), bankRuns.Add(1)),
				iso:     iso,
				refused: new(atomic.Int64),
				errs:    new(errorTally),
			}
			By("opening five accounts of 100")
			bank.open(ctx)

			By("moving money and reading it under seeded faults")
			h := chaos.NewHistory()
			api := h.API("bank", chaos.Bank(bankTotal))
			tl := bank.run(ctx, h, api)
			s := countBank(api.Operations())

			By("reading the final balances in one linearizable Get")
			call := api.Call(bankMovers, chaos.ReadBalances{})
			final := bank.final(ctx)
			call.Return(final)
			h.Stop()

			summary := fmt.Sprintf("%s: %d transfers (%d unknown, %d refused), %d of %d snapshots with a wrong total %v (%d reads unknown), final total %d, %d fault steps, %v",
				isolationName(iso), s.transfers, s.unknown, bank.refused.Load(), s.wrong, s.reads, s.wrongTotals, s.unknownReads,
				totalOf(final), len(tl.Steps), time.Since(start).Round(time.Millisecond))
			AddReportEntry("bank", summary)
			AddReportEntry("unknown outcomes", bank.errs.String())
			GinkgoWriter.Println(summary)

			// Not vacuous: money moved, and was read, while faults were
			// injected. The bounds are well below the least measured with
			// six suites at once on two cores (37 transfers; 8 reads, at
			// SerializableSnapshot: a read-only STM there retries for as
			// long as a transfer commits between its read and its commit).
			Expect(s.transfers).To(BeNumerically(">=", 10), "transfers that returned; %s", summary)
			Expect(s.reads).To(BeNumerically(">=", 1), "reads that returned during the run; %s", summary)
			Expect(len(tl.Steps)).To(BeNumerically(">=", 2), "fault steps")

			if safe {
				Expect(h).To(matchers.BeLinearizable(), summary)
				Expect(totalOf(final)).To(Equal(int64(bankTotal)), "the final total")
			} else {
				Expect(h).NotTo(matchers.BeLinearizable(), summary)
				check := h.CheckLinearizable()
				AddReportEntry("check", check.String())
				Expect(check.Violations[0].API).To(Equal("bank"), "%s", check)
				Expect(check.Violations[0].Undecided).To(BeFalse(), "%s", check)
			}
		},
		func(iso concurrency.Isolation, safe bool) string {
			if safe {
				return isolationName(iso) + " keeps it"
			}
			return isolationName(iso) + " loses money, and the check says so"
		},
		Entry(nil, concurrency.ReadCommitted, false, SpecTimeout(bankTimeout)),
		Entry(nil, concurrency.RepeatableReads, true, SpecTimeout(bankTimeout)),
		Entry(nil, concurrency.Serializable, true, SpecTimeout(bankTimeout)),
		Entry(nil, concurrency.SerializableSnapshot, true, SpecTimeout(bankTimeout)),
	)
})

// open seeds the accounts, before anything is recorded.
func (b stmBank) open(ctx context.Context) {
	var puts []clientv3.Op
	for _, a := range bankAccounts {
		puts = append(puts, clientv3.OpPut(b.key(a), strconv.Itoa(bankBalance)))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := cluster.Client().Txn(ctx).Then(puts...).Commit()
	Expect(err).NotTo(HaveOccurred())
}

// run moves money with bankMovers clients and reads it with one more, each
// its own clientv3.Client (a simulated process), for as long as a seeded
// chaos.Run lasts.
func (b stmBank) run(ctx context.Context, h *chaos.History, api *chaos.API) chaos.Timeline {
	clients := make([]*clientv3.Client, bankMovers+1)
	for i := range clients {
		cli, err := clientv3.New(cluster.ClientConfig())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(cli.Close)
		clients[i] = cli
	}
	work, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range bankMovers {
		wg.Go(func() { b.move(work, api, i, clients[i]) })
	}
	wg.Go(func() { b.read(work, api, bankMovers, clients[bankMovers]) })
	tl, err := chaos.Run(ctx, cluster, chaos.Options{Seed: bankSeed, Duration: bankDuration, History: h})
	stop()
	wg.Wait()
	AddReportEntry("fault steps", tl.String())
	Expect(err).NotTo(HaveOccurred(), "replay: %s", tl.Replay())
	return tl
}

// final reads every account in one linearizable Get, after the run.
func (b stmBank) final(ctx context.Context) map[string]int64 {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := cluster.Client().Get(ctx, b.prefix, clientv3.WithPrefix())
	Expect(err).NotTo(HaveOccurred())
	bs := map[string]int64{}
	for _, kv := range resp.Kvs {
		n, err := strconv.ParseInt(string(kv.Value), 10, 64)
		Expect(err).NotTo(HaveOccurred(), "%s", kv.Key)
		bs[string(kv.Key[len(b.prefix):])] = n
	}
	return bs
}

func isolationName(iso concurrency.Isolation) string {
	switch iso {
	case concurrency.ReadCommitted:
		return "ReadCommitted"
	case concurrency.RepeatableReads:
		return "RepeatableReads"
	case concurrency.Serializable:
		return "Serializable"
	case concurrency.SerializableSnapshot:
		return "SerializableSnapshot"
	}
	return fmt.Sprintf("Isolation(%d)", int(iso))
}
