// Command modem compares ferry's audio modem with codec2's FreeDV data
// modes through the same simulated channels (package channel): payload
// goodput and frame success against SNR, written as CSV and a PNG plot,
// and the modem's CPU time per minute of audio. It is a benchmark, not a
// test: run it by hand (docs/modem.md gives the commands).
//
//	./bench/modem/build.sh                       # the codec2 harness
//	go run ./bench/modem -frames 30 -snr -6:15:1 -out bench/modem/results
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"ferry/internal/carry/audio/channel"
	"ferry/internal/carry/audio/modem"
	"ferry/internal/testkit/cpuclock"
)

// system is one modem mode under test.
type system struct {
	name    string
	ferry   modem.Mode // 0 for codec2
	payload int        // payload bytes per frame
	airtime float64    // seconds per frame as sent
	tx      []float32  // frames at 8 kHz
	frames  int
}

type result struct {
	system, channel string
	snr             float64
	sent, good      int
	goodput         float64 // bit/s of correct payload
}

func main() {
	systems := flag.String("systems", "robust,standard,fast,datac0,datac3,datac1", "modes to run")
	channels := flag.String("channels", "awgn,poor", "channels: awgn, good, moderate, poor")
	snrs := flag.String("snr", "-6:15:1", "SNR range from:to:step in dB (3 kHz)")
	frames := flag.Int("frames", 20, "frames per point")
	seed := flag.Int64("seed", 1, "channel seed")
	harness := flag.String("harness", "bench/modem/bin/c2harness", "codec2 harness built by build.sh")
	out := flag.String("out", "", "write OUT.csv and OUT.png")
	cpu := flag.Bool("cpu", false, "measure encode/decode CPU time per minute of audio and exit")
	jobs := flag.Int("j", 2, "parallel jobs")
	replot := flag.String("replot", "", "read results from this CSV (several, comma-separated) and write -out.png and -out.md only")
	flag.Parse()
	if *replot != "" {
		var rs []result
		for _, p := range strings.Split(*replot, ",") {
			r, err := readCSV(p)
			if err != nil {
				log.Fatal(err)
			}
			rs = append(rs, r...)
		}
		if err := plot(*out+".png", rs); err != nil {
			log.Fatal(err)
		}
		printTable(rs)
		return
	}
	if *cpu {
		measureCPU()
		return
	}
	snrList, err := parseRange(*snrs)
	if err != nil {
		log.Fatal(err)
	}
	var syss []*system
	for _, name := range strings.Split(*systems, ",") {
		s, err := prepare(name, *frames, *harness)
		if err != nil {
			log.Fatal(err)
		}
		syss = append(syss, s)
	}
	type job struct {
		s   *system
		ch  string
		snr float64
	}
	var work []job
	for _, s := range syss {
		for _, ch := range strings.Split(*channels, ",") {
			for _, snr := range snrList {
				work = append(work, job{s, ch, snr})
			}
		}
	}
	results := make([]result, len(work))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < *jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := work[i]
				r, err := run(j.s, j.ch, j.snr, *seed+int64(i), *harness)
				if err != nil {
					log.Fatal(err)
				}
				results[i] = r
				fmt.Fprintf(os.Stderr, "%-8s %-5s %6.1f dB  %3d/%3d  %7.1f bit/s\n", r.system, r.channel, r.snr, r.good, r.sent, r.goodput)
			}
		}()
	}
	for i := range work {
		next <- i
	}
	close(next)
	wg.Wait()
	printTable(results)
	if *out != "" {
		if err := writeCSV(*out+".csv", results); err != nil {
			log.Fatal(err)
		}
		if err := plot(*out+".png", results); err != nil {
			log.Fatal(err)
		}
	}
}

func parseRange(s string) ([]float64, error) {
	p := strings.Split(s, ":")
	if len(p) == 1 {
		var out []float64
		for _, x := range strings.Split(s, ",") {
			v, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if len(p) != 3 {
		return nil, fmt.Errorf("SNR range %q: want from:to:step", s)
	}
	var v [3]float64
	for i := range p {
		x, err := strconv.ParseFloat(p[i], 64)
		if err != nil {
			return nil, err
		}
		v[i] = x
	}
	var out []float64
	for x := v[0]; x <= v[1]+1e-9; x += v[2] {
		out = append(out, x)
	}
	return out, nil
}

// payloadOf is the deterministic payload of frame i (the C harness makes
// its own).
func payloadOf(m modem.Mode, i int) []byte {
	b := make([]byte, m.PayloadSize())
	s := uint64(i)*0x9E3779B97F4A7C15 + uint64(m)
	for j := range b {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		b[j] = byte(s >> 32)
	}
	return b
}

func prepare(name string, frames int, harness string) (*system, error) {
	if m, err := modem.ParseMode(name); err == nil {
		tx, err := modem.NewTransmitter(m, modem.SampleRate)
		if err != nil {
			return nil, err
		}
		x := make([]float32, modem.SampleRate) // 1 s of silence first
		for i := 0; i < frames; i++ {
			f, err := tx.Frame(payloadOf(m, i))
			if err != nil {
				return nil, err
			}
			x = append(x, f...)
		}
		x = append(x, tx.Flush()...)
		x = append(x, make([]float32, modem.SampleRate)...)
		return &system{name: name, ferry: m, payload: m.PayloadSize(), airtime: m.FrameDuration().Seconds(), tx: x, frames: frames}, nil
	}
	if !strings.HasPrefix(name, "datac") {
		return nil, fmt.Errorf("unknown system %q", name)
	}
	info, err := exec.Command(harness, "info", name).Output()
	if err != nil {
		return nil, fmt.Errorf("codec2 harness (run bench/modem/build.sh first): %v", err)
	}
	var pay, pre, n, post, gap int
	if _, err := fmt.Sscan(string(info), &pay, &pre, &n, &post, &gap); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ferry-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	raw := filepath.Join(dir, "tx.raw")
	if err := exec.Command(harness, "tx", name, fmt.Sprint(frames), "1", raw).Run(); err != nil {
		return nil, err
	}
	x, err := readRaw(raw)
	if err != nil {
		return nil, err
	}
	return &system{name: name, payload: pay, airtime: float64(pre+n+post+gap) / 8000, tx: x, frames: frames}, nil
}

func readRaw(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	x := make([]float32, len(b)/2)
	for i := range x {
		x[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32768
	}
	return x, nil
}

func writeRaw(path string, x []float32) error {
	// codec2 expects its own level: scale to its transmit RMS.
	b := make([]byte, 2*len(x))
	for i, v := range x {
		s := math.Round(float64(v) * 32768)
		s = math.Max(-32768, math.Min(32767, s))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(s)))
	}
	return os.WriteFile(path, b, 0o644)
}

func run(s *system, ch string, snr float64, seed int64, harness string) (result, error) {
	o := channel.Options{SNR: snr, ActivePower: true, Seed: seed}
	if ch != "awgn" {
		o.Fading = ch
	}
	y, err := channel.Apply(s.tx, 8000, o)
	if err != nil {
		return result{}, err
	}
	r := result{system: s.name, channel: ch, snr: snr, sent: s.frames}
	if s.ferry != 0 {
		rx, _ := modem.NewReceiver(modem.SampleRate, s.ferry)
		var frames []modem.Frame
		for i := 0; i < len(y); i += 4000 {
			frames = append(frames, rx.Write(y[i:min(i+4000, len(y))])...)
		}
		frames = append(frames, rx.Flush()...)
		seen := map[int]bool{}
		for _, f := range frames {
			for i := 0; i < s.frames; i++ {
				if !seen[i] && bytes.Equal(f.Payload, payloadOf(s.ferry, i)) {
					seen[i] = true
					r.good++
					break
				}
			}
		}
	} else {
		// Scale to codec2's own level (its receiver has a fixed-point
		// front end) and decode with the harness.
		dir, err := os.MkdirTemp("", "ferry-bench-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		peak := 0.0
		for _, v := range y {
			peak = math.Max(peak, math.Abs(float64(v)))
		}
		if peak > 0.99 {
			for i := range y {
				y[i] *= float32(0.99 / peak)
			}
		}
		raw := filepath.Join(dir, "rx.raw")
		if err := writeRaw(raw, y); err != nil {
			return r, err
		}
		outb, err := exec.Command(harness, "rx", s.name, fmt.Sprint(s.frames), "1", raw).Output()
		if err != nil {
			return r, fmt.Errorf("codec2 rx: %v", err)
		}
		var got int
		fmt.Sscan(string(outb), &got, &r.good)
	}
	r.goodput = float64(r.good*8*s.payload) / (float64(s.frames) * s.airtime)
	return r, nil
}

func printTable(rs []result) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].channel != rs[j].channel {
			return rs[i].channel < rs[j].channel
		}
		return rs[i].system < rs[j].system
	})
	fmt.Println("| system | channel | SNR dB | frames ok | goodput bit/s |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %s | %.0f | %d/%d | %.0f |\n", r.system, r.channel, r.snr, r.good, r.sent, r.goodput)
	}
}

func readCSV(path string) ([]result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []result
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 6 {
			return nil, fmt.Errorf("%s line %d: %q", path, i+1, line)
		}
		var r result
		r.system, r.channel = f[0], f[1]
		fmt.Sscan(f[2], &r.snr)
		fmt.Sscan(f[3], &r.sent)
		fmt.Sscan(f[4], &r.good)
		fmt.Sscan(f[5], &r.goodput)
		rs = append(rs, r)
	}
	return rs, nil
}

func writeCSV(path string, rs []result) error {
	var b strings.Builder
	b.WriteString("system,channel,snr_db,frames_sent,frames_ok,goodput_bps\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "%s,%s,%.1f,%d,%d,%.1f\n", r.system, r.channel, r.snr, r.sent, r.good, r.goodput)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// measureCPU times encoding and decoding one minute of each mode's signal
// (process CPU time, so other load on the machine does not count).
func measureCPU() {
	for _, m := range modem.Modes {
		n := int(math.Ceil(60 / m.FrameDuration().Seconds()))
		for _, rate := range []int{8000, 48000} {
			t0 := cpuclock.Process()
			tx, _ := modem.NewTransmitter(m, rate)
			var x []float32
			for i := 0; i < n; i++ {
				f, _ := tx.Frame(payloadOf(m, i))
				x = append(x, f...)
			}
			x = append(x, tx.Flush()...)
			enc := cpuclock.Process() - t0
			y, _ := channel.Apply(x, rate, channel.Options{SNR: 10, Seed: 1})
			t1 := cpuclock.Process()
			rx, _ := modem.NewReceiver(rate)
			got := 0
			for i := 0; i < len(y); i += 4096 {
				got += len(rx.Write(y[i:min(i+4096, len(y))]))
			}
			got += len(rx.Flush())
			dec := cpuclock.Process() - t1
			minutes := float64(len(x)) / float64(rate) / 60
			fmt.Printf("| %s | %d Hz | %.2f s | %.2f s | %d/%d |\n", m, rate, enc.Seconds()/minutes, dec.Seconds()/minutes, got, n)
		}
	}
	fmt.Println("(columns: mode, rate, encode CPU per minute of audio, decode CPU per minute listening for all three modes, frames decoded)")
}
