// Package certs makes the TLS material of a cluster with Config.TLS: a CA
// of its own, one certificate the members present both as servers and as
// peers' clients, and a client certificate, written into the cluster's
// directory for etcd's flags and kept in memory for the toolkit's clients
// and peer proxies.
//
//	set, err := certs.Generate(dir)
//	if err != nil {
//		return err
//	}
//	cfg := &tls.Config{RootCAs: set.Pool, Certificates: []tls.Certificate{set.Client}}
//	args := []string{"--cert-file=" + set.MemberCertFile, "--key-file=" + set.MemberKeyFile,
//		"--trusted-ca-file=" + set.CAFile, "--client-cert-auth"}
package certs
