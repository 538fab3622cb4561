package s3test

import (
	"net"
	"testing"
)

// TestStartTakenPort: when another process holds one of the ports weed was
// given, weed exits and Start tries again on other ports.
func TestStartTakenPort(t *testing.T) {
	if _, err := Binary(); err != nil {
		t.Skip(err)
	}
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	calls := 0
	pickPorts = func(n int) ([]int, error) {
		calls++
		p, err := freePorts(n)
		if calls == 1 && err == nil {
			p[6] = held.Addr().(*net.TCPAddr).Port // the S3 port
		}
		return p, err
	}
	defer func() { pickPorts = freePorts }()
	s := Start(t)
	if calls != 2 || s.Endpoint == "http://"+held.Addr().String() {
		t.Fatalf("%d tries, endpoint %s", calls, s.Endpoint)
	}
}
