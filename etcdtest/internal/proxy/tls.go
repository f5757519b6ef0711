package proxy

import (
	"crypto/tls"
	"net"
)

// TLSServer terminates TLS on conn with cfg; nil cfg passes conn through.
func TLSServer(conn net.Conn, cfg *tls.Config) net.Conn {
	if cfg == nil {
		return conn
	}
	return tls.Server(conn, cfg)
}

// TLSClient starts TLS on conn with cfg; nil cfg passes conn through.
func TLSClient(conn net.Conn, cfg *tls.Config) net.Conn {
	if cfg == nil {
		return conn
	}
	return tls.Client(conn, cfg)
}
