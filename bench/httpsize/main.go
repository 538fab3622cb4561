// Command httpsize measures what the size of a response alone costs a Go
// HTTP server's CPU on loopback: the server (this program again, in a
// process of its own) answers GET /p/N with N bytes written in two calls
// (3,000 bytes, then the rest), as the reader writes a page (head and bar,
// then the body); the client asks for sizes in turns and reads the
// server's process CPU (user + system) before and after each batch.
//
// It answers a question of issue 19: does the +3.3 KB of markup a glossed
// page carries cost the server noticeable CPU? (docs/glossary.md, "Cost".)
//
// Run: go run ./bench/httpsize [-n 3000] [-rounds 10]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"

	"ferry/internal/testkit/cpuclock"
)

const (
	headSize = 3000    // the first write of every response
	maxSize  = 1 << 20 // the largest response
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "server" {
		serve()
		return
	}
	n := flag.Int("n", 3000, "requests per size per round")
	rounds := flag.Int("rounds", 10, "rounds, sizes taking turns in each")
	flag.Parse()
	if err := measure(*n, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench/httpsize:", err)
		os.Exit(1)
	}
}

func serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	head := bytes.Repeat([]byte("h"), headSize)
	body := bytes.Repeat([]byte("x"), maxSize-headSize)
	mux := http.NewServeMux()
	mux.HandleFunc("/cpu", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, cpuclock.Process().Nanoseconds())
	})
	mux.HandleFunc("/p/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < headSize || n > maxSize {
			http.Error(w, "size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(head)
		w.Write(body[:n-headSize])
	})
	http.Serve(ln, mux)
}

func measure(n, rounds int) error {
	cmd := exec.Command(os.Args[0], "server")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var addr string
	if _, err := fmt.Fscanln(out, &addr); err != nil {
		return err
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	get := func(p string) ([]byte, error) {
		r, err := c.Get("http://" + addr + p)
		if err != nil {
			return nil, err
		}
		defer r.Body.Close()
		return io.ReadAll(r.Body)
	}
	serverCPU := func() (int64, error) {
		b, err := get("/cpu")
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(string(b), 10, 64)
	}
	// 13,600 and 16,900 bytes: a KorQuAD page without and with word notes.
	sizes := []int{8000, 13600, 16900, 32000}
	sum := map[int]int64{}
	for round := range rounds {
		for j := range sizes {
			s := sizes[(round+j)%len(sizes)] // each size goes first in turn
			c0, err := serverCPU()
			if err != nil {
				return err
			}
			for range n {
				if _, err := get("/p/" + strconv.Itoa(s)); err != nil {
					return err
				}
			}
			c1, err := serverCPU()
			if err != nil {
				return err
			}
			sum[s] += c1 - c0
		}
	}
	for _, s := range sizes {
		fmt.Printf("%6d bytes: %6.1f µs of server CPU a request\n", s, float64(sum[s])/float64(rounds*n)/1e3)
	}
	return nil
}
