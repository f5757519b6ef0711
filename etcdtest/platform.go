package etcdtest

import "runtime"

// localOS is the OS Start asks proc.CheckPlatform about before booting a
// local cluster: Windows has no process groups, SIGSTOP or flock, so there
// Start refuses at once and points at $ETCDTEST_ENDPOINTS, which needs none
// of them. A variable so that a test on Linux can see Windows's answer.
var localOS = runtime.GOOS
