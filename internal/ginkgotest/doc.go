// Package ginkgotest tests etcdtest's Ginkgo integration from the outside:
// its specs build a small child suite (testdata/child) and the Ginkgo CLI
// once, run the child as real processes — under ginkgo -p, with a failing
// spec, interrupted by one or two ^C or by --timeout, using the
// BeforeSuite handle too early — and check what the child printed and what
// it left behind. The package has no code of its own. Its specs are Unix's
// (they send a process group ^C and SIGUSR1), so its test files build there
// only.
package ginkgotest
