// Command sync measures ferry sync bringing an edition up to date against
// rsync doing the same with the same files, and prints a Markdown table
// for docs/benchmarks.md.
//
//	go run ./bench/sync                          # a ~100 MB news edition with photos
//	go run ./bench/sync -pictures 0 -pages 60000 # text only
//
// Two editions of a made-up site are packed (pages from package corpus,
// our own writing; "photos" of random bytes, which do not compress, as
// JPEGs do not): edition 42 is edition 41 with a share of its pages and
// photos rewritten (-change, default 2%). The taker's library holds
// edition 41, the giver's edition 42, and there is no delta. ferry sync
// runs both sides in this process over loopback; rsync runs as
// 'rsync --daemon' on loopback, the client updating a copy of edition 41's
// file into edition 42's, with and without -z. Bytes are what crossed the
// connection (both directions, TCP/IP headers not counted); times are wall
// clock for the whole operation, including, for ferry, hashing the entries
// of both editions when that is not cached ("cold") and adding the
// archive to the library, which checks every byte again.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/klauspost/compress/zstd"

	"ferry/internal/archive"
	"ferry/internal/carry/peer"
	"ferry/internal/carry/peer/netlab"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/cpuclock"
	"ferry/internal/trust"
)

func main() {
	pages := flag.Int("pages", 20000, "pages of the site")
	pictures := flag.Int("pictures", 1500, "photos of the site")
	picSize := flag.Int("picsize", 60<<10, "mean photo size in bytes")
	change := flag.Float64("change", 0.02, "share of pages and photos rewritten in the next edition")
	dir := flag.String("dir", "", "work folder, kept (default: a temporary one, removed)")
	runs := flag.Int("runs", 1, "runs of each measurement (the table gives each run)")
	flag.StringVar(&profile, "cpuprofile", "", "write a CPU profile of each timed ferry run to this path with .N added (N = 1, 2, ...; merge them with go tool pprof -proto)")
	only = flag.String("only", "", "comma-separated methods to run of rsync, rsync-z, cold, kept, bytes (default: all; rsync always runs, as the yardstick)")
	flag.BoolVar(&sectionMatch, "searchmatch", false, "also print how much of edition 42's search index section lies verbatim in edition 41's, in blocks of 16384 to 512 bytes (what patching the section from the held one could save)")
	shaped := flag.Bool("link", false, "run both over a link of 20 Mbit/s with 15 ms each way (network namespaces, needs root) instead of loopback")
	flag.Parse()
	if *shaped {
		l, err := netlab.New(netlab.Shape{Delay: 15 * time.Millisecond, Rate: 20e6, Queue: 1 << 20})
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/sync:", err)
			os.Exit(1)
		}
		defer l.Close()
		link = l
		fmt.Printf("Link: %s.\n\n", l.Kind)
	}
	if err := run(*pages, *pictures, *picSize, *change, *dir, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench/sync:", err)
		os.Exit(1)
	}
}

func run(pages, pictures, picSize int, change float64, dir string, runs int) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "ferry-bench-sync-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	e41, e42, err := editions(dir, pages, pictures, picSize, change)
	if err != nil {
		return err
	}
	b41, err := os.ReadFile(e41)
	if err != nil {
		return err
	}
	b42, err := os.ReadFile(e42)
	if err != nil {
		return err
	}
	r42, err := archive.OpenFile(e42)
	if err != nil {
		return err
	}
	m := r42.Manifest()
	r42.Close()
	fmt.Printf("Editions: 41 is %d bytes, 42 is %d bytes (%d entries, %d clusters; search index %d bytes); %.0f%% of pages and photos rewritten.\n\n",
		len(b41), len(b42), m.Counts.Entries, m.Counts.Clusters, m.Sections["search"].Length, change*100)
	if sectionMatch {
		if err := searchMatch(e41, e42); err != nil {
			return err
		}
	}
	fmt.Println("| run | method | wire bytes | ÷ edition 42 | ÷ rsync bytes | ÷ rsync -z bytes | wall time | ÷ rsync | CPU time | ÷ rsync |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for r := 1; r <= runs; r++ {
		rs, err := rsyncRun(dir, b41, b42, false)
		if err != nil {
			return err
		}
		rz := rs
		if selected(only, "rsync-z") {
			if rz, err = rsyncRun(dir, b41, b42, true); err != nil {
				return err
			}
		}
		row := func(name string, x *result) {
			fmt.Printf("| %d | %s | %d | %.3f | %.3f | %.3f | %.2f s | %.2f | %.2f s | %.2f |\n", r, name, x.bytes, float64(x.bytes)/float64(len(b42)),
				float64(x.bytes)/float64(rs.bytes), float64(x.bytes)/float64(rz.bytes),
				x.took.Seconds(), x.took.Seconds()/rs.took.Seconds(), x.cpu.Seconds(), x.cpu.Seconds()/rs.cpu.Seconds())
		}
		row("rsync --daemon", rs)
		if rz != rs {
			row("rsync --daemon -z", rz)
		}
		// Entry hashes a run in this folder kept earlier (the editions are
		// kept with them) count as kept.
		var hashes string
		if st, err := os.Stat(filepath.Join(dir, "hashes")); err == nil && st.IsDir() {
			hashes = filepath.Join(dir, "hashes")
		}
		for _, c := range []struct {
			name, short string
			policy      peer.Policy
			warm        bool
		}{
			{"ferry sync, cold", "cold", peer.PolicyTime, false},
			{"ferry sync, entry hashes kept", "kept", peer.PolicyTime, true},
			{"ferry sync --prefer bytes, kept", "bytes", peer.PolicyBytes, true},
		} {
			if !selected(only, c.short) {
				continue
			}
			res, err := ferryRun(dir, b41, b42, c.policy, c.warm, &hashes)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			row(fmt.Sprintf("%s (local %d, rebuilt %d, fetched %d; transfer %.2f s, adding %.2f s)", c.name, res.sum.Local, res.sum.Rebuilt, res.sum.Fetched,
				res.sum.Transfer.Seconds(), res.sum.Adding.Seconds()), res)
		}
	}
	return nil
}

// profile is the -cpuprofile path, and profiled the number of profiles
// written to it: only the timed part of each ferry run is profiled, not
// packing the editions or making the libraries.
var (
	profile  string
	profiled int
)

// sectionMatch is -searchmatch.
var sectionMatch bool

// searchMatch prints, for block sizes 16384 (the search section's signed
// block size) down to 512, how many blocks of edition 42's search index (at multiples of the
// block size) occur anywhere in edition 41's, found with a rolling hash and
// confirmed byte for byte.
func searchMatch(e41, e42 string) error {
	a, err := searchBytes(e41)
	if err != nil {
		return err
	}
	b, err := searchBytes(e42)
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	if err != nil {
		return err
	}
	for _, bs := range []int{16384, 8192, 4096, 2048, 1024, 512} {
		const base = 1000003
		pw := uint64(1)
		for range bs {
			pw *= base
		}
		at := map[uint64]int{}
		var h uint64
		for i := range a {
			h = h*base + uint64(a[i])
			if i >= bs {
				h -= pw * uint64(a[i-bs])
			}
			if i >= bs-1 {
				at[h] = i - bs + 1
			}
		}
		found, blocks := 0, len(b)/bs
		var rest []byte // the blocks not found, and the tail
		for off := 0; off < len(b); off += bs {
			end := min(off+bs, len(b))
			var g uint64
			for _, c := range b[off:end] {
				g = g*base + uint64(c)
			}
			if j, ok := at[g]; ok && end-off == bs && bytes.Equal(a[j:j+bs], b[off:end]) {
				found++
				continue
			}
			rest = append(rest, b[off:end]...)
		}
		fmt.Printf("Search index, blocks of %d bytes: %d of %d whole blocks of 42's found in 41's (%.1f%%, %d of %d bytes); the rest is %d bytes, %d with zstd's default level (the whole section: %d).\n",
			bs, found, blocks, 100*float64(found)/float64(max(blocks, 1)), found*bs, len(b), len(rest), len(enc.EncodeAll(rest, nil)), len(enc.EncodeAll(b, nil)))
	}
	fmt.Println()
	return nil
}

// searchBytes reads the search index section of the archive at path.
func searchBytes(path string) ([]byte, error) {
	r, err := archive.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ra, n, err := r.SearchIndex()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(io.NewSectionReader(ra, 0, n), b); err != nil {
		return nil, err
	}
	return b, nil
}

// only names the methods to run (-only); empty runs all.
var only *string

// selected reports whether the method is to run.
func selected(only *string, method string) bool {
	if *only == "" {
		return true
	}
	for _, m := range strings.Split(*only, ",") {
		if strings.TrimSpace(m) == method {
			return true
		}
	}
	return false
}

// editions packs the two editions into dir (kept there for later runs).
func editions(dir string, pages, pictures, picSize int, change float64) (string, string, error) {
	e41, e42 := filepath.Join(dir, "41.ferry"), filepath.Join(dir, "42.ferry")
	keyFile := filepath.Join(dir, "pub")
	if _, err := os.Stat(e42); err == nil {
		return e41, e42, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	k, err := key.Generate()
	if err != nil {
		return "", "", err
	}
	if err := key.WriteFiles(keyFile, k, "bench"); err != nil {
		return "", "", err
	}
	opts := corpus.Options{Pages: pages, Seed: 42}
	s41, err := corpus.Site(opts)
	if err != nil {
		return "", "", err
	}
	every := int(1/change + 0.5)
	s42, _, err := corpus.Edit(s41, opts, every, nil, 0)
	if err != nil {
		return "", "", err
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for i := 0; i < pictures; i++ {
		name := fmt.Sprintf("img/photo%05d.jpg", i)
		s41[name] = &fstest.MapFile{Data: noise(rng, picSize/2+rng.IntN(picSize))}
		s42[name] = s41[name]
		if i%every == every/2 {
			s42[name] = &fstest.MapFile{Data: noise(rng, picSize/2+rng.IntN(picSize))}
		}
	}
	for _, e := range []struct {
		path string
		fs   fs.FS
		ed   uint64
	}{{e41, s41, 41}, {e42, s42, 42}} {
		fmt.Fprintf(os.Stderr, "packing edition %d...\n", e.ed)
		if _, err := pack.PackFile(context.Background(), e.path, pack.Options{Info: archive.Info{Channel: "news", Edition: e.ed, Created: time.Unix(1700000000+int64(e.ed), 0)},
			Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: folder.NewFS(e.fs)}}}); err != nil {
			return "", "", err
		}
	}
	return e41, e42, nil
}

// noise is made-up photo bytes: they do not compress.
func noise(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// link, if set, joins the two sides instead of loopback: the giver (and
// rsync's daemon) in namespace A, the taker (and rsync's client) in B.
var link *netlab.Link

type result struct {
	bytes int64
	took  time.Duration
	cpu   time.Duration // user + system, both sides
	sum   *peer.Summary
}

// childCPU reads the user and system time of a process's waited-for
// children from /proc (the rsync daemon forks one per connection).
func childCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 15 {
		return 0
	}
	cu, _ := strconv.ParseInt(f[13], 10, 64)
	cs, _ := strconv.ParseInt(f[14], 10, 64)
	return time.Duration(cu+cs) * 10 * time.Millisecond // USER_HZ = 100
}

// newLibrary makes a library trusting the bench key and holding one archive.
func newLibrary(dir string, archiveBytes []byte) error {
	os.RemoveAll(dir)
	l, err := library.Load(dir, true)
	if err != nil {
		return err
	}
	r, err := archive.Open(bytes.NewReader(archiveBytes), int64(len(archiveBytes)))
	if err != nil {
		return err
	}
	if err := l.State.Trust.Add(trust.Anchor{Label: "bench", Keys: r.Signers(), Threshold: 1}); err != nil {
		return err
	}
	if err := l.Save(); err != nil {
		return err
	}
	_, err = l.Add(context.Background(), []library.Arrival{{From: "bench", R: bytes.NewReader(archiveBytes), Size: int64(len(archiveBytes))}}, library.AddOptions{})
	return err
}

// ferryRun brings a library holding 41 up to date from one holding 42.
// With warm, the entry hashes of a previous run (saved in *hashes) are put
// in place first.
func ferryRun(dir string, b41, b42 []byte, policy peer.Policy, warm bool, hashes *string) (*result, error) {
	a, b := filepath.Join(dir, "A"), filepath.Join(dir, "B")
	if err := newLibrary(a, b42); err != nil {
		return nil, err
	}
	if err := newLibrary(b, b41); err != nil {
		return nil, err
	}
	if warm && *hashes != "" {
		for _, side := range []string{"A", "B"} {
			if err := os.CopyFS(filepath.Join(dir, side, peer.SyncDir, "hashes"), os.DirFS(filepath.Join(*hashes, side))); err != nil {
				return nil, err
			}
		}
	}
	opts := func(lib string) peer.Options { return peer.Options{Library: lib, Policy: policy} }
	var ln net.Listener
	var err error
	if link != nil {
		err = link.In(link.A, func() (err error) { ln, err = net.Listen("tcp", link.AddrA+":4040"); return })
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, err
	}
	l, err := peer.ListenOn(ln, opts(a))
	if err != nil {
		return nil, err
	}
	defer l.Close()
	if profile != "" {
		profiled++
		f, err := os.Create(fmt.Sprintf("%s.%d", profile, profiled))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	start, cpu0 := time.Now(), cpuclock.Process()
	var wg sync.WaitGroup
	var serr error
	wg.Add(1)
	go func() { defer wg.Done(); _, serr = l.Serve(context.Background()) }()
	var nc net.Conn
	dial := func() (err error) { nc, err = net.Dial("tcp", ln.Addr().String()); return }
	if link != nil {
		err = link.In(link.B, dial)
	} else {
		err = dial()
	}
	if err != nil {
		return nil, err
	}
	sum, err := peer.DialConn(context.Background(), nc, l.Pairing().Code, opts(b))
	wg.Wait()
	took, cpu := time.Since(start), cpuclock.Process()-cpu0
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil || serr != nil {
		return nil, fmt.Errorf("sync: %v / %v", err, serr)
	}
	if len(sum.Received) != 1 {
		return nil, fmt.Errorf("sync received %d archives", len(sum.Received))
	}
	got, err := os.ReadFile(filepath.Join(b, library.ArchiveDir, sum.Received[0].ID+".ferry"))
	if err != nil || !bytes.Equal(got, b42) {
		return nil, fmt.Errorf("the received edition 42 is not the publisher's bytes (%v)", err)
	}
	if *hashes == "" {
		keep := filepath.Join(dir, "hashes")
		os.RemoveAll(keep)
		for _, side := range []string{"A", "B"} {
			if err := os.CopyFS(filepath.Join(keep, side), os.DirFS(filepath.Join(dir, side, peer.SyncDir, "hashes"))); err != nil {
				return nil, err
			}
		}
		*hashes = keep
	}
	return &result{bytes: sum.WireRead + sum.WireWritten, took: took, cpu: cpu, sum: sum}, nil
}

var statsRe = regexp.MustCompile(`Total bytes (sent|received): ([0-9,]+)`)

// rsyncRun updates a copy of 41 into 42 with rsync from an rsync daemon
// on loopback serving 42.
func rsyncRun(dir string, b41, b42 []byte, compress bool) (*result, error) {
	root := filepath.Join(dir, "rsync")
	os.RemoveAll(root)
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	for _, d := range []string{src, dst} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(src, "news.ferry"), b42, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dst, "news.ferry"), b41, 0o644); err != nil {
		return nil, err
	}
	host, port := "127.0.0.1", 4873
	if link == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	} else {
		host = link.AddrA
	}
	command := func(ns string, args ...string) *exec.Cmd {
		if link != nil {
			return link.Command(ns, args[0], args[1:]...)
		}
		return exec.Command(args[0], args[1:]...)
	}
	conf := filepath.Join(root, "rsyncd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("use chroot = no\npid file = %s\n[m]\npath = %s\nread only = yes\n", filepath.Join(root, "pid"), src)), 0o644); err != nil {
		return nil, err
	}
	d := command(linkA(), "rsync", "--daemon", "--no-detach", "--address", host, "--port", strconv.Itoa(port), "--config", conf)
	d.Stderr = os.Stderr
	if err := d.Start(); err != nil {
		return nil, fmt.Errorf("starting rsync --daemon (Debian's rsync package): %w", err)
	}
	defer func() { d.Process.Kill(); d.Wait() }()
	for i := 0; i < 100; i++ {
		var c net.Conn
		dial := func() (err error) { c, err = net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port))); return }
		var err error
		if link != nil {
			err = link.In(link.B, dial)
		} else {
			err = dial()
		}
		if err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	args := []string{"-a", "--no-whole-file", "--stats"}
	if compress {
		args = append(args, "-z")
	}
	args = append(args, "rsync://"+net.JoinHostPort(host, strconv.Itoa(port))+"/m/news.ferry", filepath.Join(dst, "news.ferry"))
	start := time.Now()
	cl := command(linkB(), append([]string{"rsync"}, args...)...)
	out, err := cl.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("rsync: %v: %s", err, out)
	}
	// The daemon's child for this connection has ended and been waited for
	// once the client is done; give it a moment to be counted.
	var daemonCPU time.Duration
	for i := 0; i < 50; i++ {
		if daemonCPU = childCPU(d.Process.Pid); daemonCPU > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cpu := cl.ProcessState.UserTime() + cl.ProcessState.SystemTime() + daemonCPU
	got, err := os.ReadFile(filepath.Join(dst, "news.ferry"))
	if err != nil || !bytes.Equal(got, b42) {
		return nil, fmt.Errorf("rsync did not produce edition 42")
	}
	var total int64
	for _, m := range statsRe.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
		total += n
	}
	if total == 0 {
		return nil, fmt.Errorf("rsync printed no byte counts: %s", out)
	}
	return &result{bytes: total, took: took, cpu: cpu}, nil
}

func linkA() string {
	if link == nil {
		return ""
	}
	return link.A
}

func linkB() string {
	if link == nil {
		return ""
	}
	return link.B
}
