package harvest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// outMarker marks a folder as harvest output, which Run may empty.
const outMarker = ".ferry-harvest"

// prepareOut makes Out an empty harvest output folder.
func prepareOut(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("harvest: output folder: %w", err)
		}
	case err != nil:
		return fmt.Errorf("harvest: output folder: %w", err)
	case len(ents) > 0:
		if _, err := os.Stat(filepath.Join(dir, outMarker)); err != nil {
			return fmt.Errorf("harvest: output folder %s is not empty and not one a harvest wrote; give an empty or new folder", dir)
		}
		for _, e := range ents {
			if e.Name() == outMarker {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("harvest: emptying the output folder: %w", err)
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, outMarker), []byte("written by ferry harvest; emptied by each run\n"), 0o644)
}

// item is one URL of this run that becomes a file in Out.
type item struct {
	url     string // final URL
	what    string // page, article, feed, resource, file
	ctype   string
	cache   string // cache file with the body (for articles and feeds: the page ferry made)
	title   string
	source  string
	changed bool
	file    string // set when rendering
}

// run is one Run's state.
type run struct {
	h     *Harvester
	o     *Options
	ctx   context.Context
	state *state
	warc  *warcWriter
	start time.Time

	hostMu sync.Mutex
	gates  map[string]*gate
	robots map[string]*robotsEntry

	mu      sync.Mutex
	sum     Summary
	seenURL map[string]bool
	items   map[string]*item
	aliases map[string]string // redirected URL → where it led
	done    int
	queued  int

	progMu sync.Mutex
	pool   pool
}

func newRun(h *Harvester, ctx context.Context) (*run, error) {
	st, err := loadState(filepath.Join(h.opts.StateDir, "state.json"))
	if err != nil {
		return nil, err
	}
	w, err := newWARC(filepath.Join(h.opts.StateDir, "warc"), h.ua)
	if err != nil {
		return nil, err
	}
	r := &run{
		h: h, o: &h.opts, ctx: ctx, state: st, warc: w, start: time.Now(),
		gates: map[string]*gate{}, robots: map[string]*robotsEntry{},
		seenURL: map[string]bool{}, items: map[string]*item{}, aliases: map[string]string{},
	}
	r.pool.init()
	return r, nil
}

func (r *run) run(sources []Source) (*Summary, error) {
	for _, src := range sources {
		ps, _ := compilePatterns(src.Include, src.Exclude) // checked by Run
		sc := &sourceRun{Source: src, pats: ps}
		if sc.MaxPages <= 0 {
			sc.MaxPages = 1000
			if src.Kind == Feed {
				sc.MaxPages = 200
			}
		}
		u, _ := parseHTTPURL(src.URL)
		sc.start = u
		switch src.Kind {
		case Site:
			r.startSite(sc)
		case Feed:
			r.queue(func() { r.feedTask(sc) })
		case File:
			r.queue(func() { r.downloadTask(sc) })
		}
	}
	r.pool.run(r.o.Concurrency)

	var errs []error
	if err := r.ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	if err := r.render(); err != nil {
		errs = append(errs, err)
	}
	if r.ctx.Err() == nil {
		r.collect()
	}
	if err := r.state.save(); err != nil {
		errs = append(errs, fmt.Errorf("harvest: saving state: %w", err))
	}
	if err := r.warc.close(); err != nil {
		errs = append(errs, err)
	}
	r.sum.WARC = r.warc.path
	r.sum.Duration = time.Since(r.start)
	sort.Slice(r.sum.Pages, func(i, j int) bool { return r.sum.Pages[i].File < r.sum.Pages[j].File })
	return &r.sum, errors.Join(errs...)
}

// sourceRun is a Source with its counters for this run.
type sourceRun struct {
	Source
	start     *url.URL
	pats      *patterns
	mu        sync.Mutex
	pages     int
	resources int
}

// take counts one more page (or resource) of the source, false past its limit.
func (s *sourceRun) take(resource bool, maxResources int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if resource {
		if s.resources >= maxResources {
			return false
		}
		s.resources++
		return true
	}
	if s.pages >= s.MaxPages {
		return false
	}
	s.pages++
	return true
}

// claim marks u as taken by this run; false if it already was.
func (r *run) claim(u string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seenURL[u] {
		return false
	}
	r.seenURL[u] = true
	return true
}

func (r *run) queue(f func()) {
	r.mu.Lock()
	r.queued++
	r.mu.Unlock()
	r.pool.add(func() {
		if r.ctx.Err() == nil {
			f()
		}
	})
}

func (r *run) alias(from, to string) {
	r.mu.Lock()
	r.aliases[from] = to
	r.mu.Unlock()
}

func (r *run) addItem(it *item) {
	r.mu.Lock()
	r.items[it.url] = it
	r.mu.Unlock()
}

func (r *run) countRequest() {
	r.mu.Lock()
	r.sum.Requests++
	r.mu.Unlock()
}

func (r *run) addBytes(n int64) {
	r.mu.Lock()
	r.sum.Bytes += n
	r.mu.Unlock()
}

// event counts a finished URL and passes it on to Progress.
func (r *run) event(e Event) {
	r.mu.Lock()
	switch e.Result {
	case Fetched:
		r.sum.Fetched++
	case Unchanged:
		r.sum.Unchanged++
	case Failed:
		r.sum.Failed++
		r.sum.Errors = append(r.sum.Errors, &URLError{URL: e.URL, Source: e.Source, Err: e.Err})
	case Skipped:
		r.sum.Skipped++
	}
	r.done++
	e.Done, e.Queued = r.done, r.queued
	r.mu.Unlock()
	if r.o.Progress != nil {
		r.progMu.Lock()
		r.o.Progress(e)
		r.progMu.Unlock()
	}
}

func (r *run) fail(u, source, what string, status int, n int64, err error) {
	r.event(Event{URL: u, Source: source, What: what, Result: Failed, Status: status, Bytes: n, Err: err})
}

func (r *run) skip(u, source, what string, err error) {
	r.event(Event{URL: u, Source: source, What: what, Result: Skipped, Err: err})
}

// result reports a fetch's outcome as an event.
func (r *run) result(u, source, what string, resp *response, err error) {
	var status int
	var n int64
	if resp != nil {
		status, n = resp.status, resp.raw
	}
	switch {
	case errors.Is(err, ErrRobots) || errors.Is(err, ErrOffSite):
		r.skip(u, source, what, err)
	case err != nil:
		r.fail(u, source, what, status, n, err)
	case resp.notModified:
		r.event(Event{URL: u, Source: source, What: what, Result: Unchanged, Status: status, Bytes: n})
	default:
		r.event(Event{URL: u, Source: source, What: what, Result: Fetched, Status: status, Bytes: n})
	}
}

// pool runs queued tasks on a fixed number of workers until the queue is
// empty and no task is running (tasks queue more tasks).
type pool struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []func()
	active int
}

func (p *pool) init() { p.cond = sync.NewCond(&p.mu) }

func (p *pool) add(f func()) {
	p.mu.Lock()
	p.q = append(p.q, f)
	p.mu.Unlock()
	p.cond.Signal()
}

func (p *pool) run(workers int) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				p.mu.Lock()
				for len(p.q) == 0 && p.active > 0 {
					p.cond.Wait()
				}
				if len(p.q) == 0 {
					p.mu.Unlock()
					p.cond.Broadcast()
					return
				}
				f := p.q[0]
				p.q[0] = nil
				p.q = p.q[1:]
				p.active++
				p.mu.Unlock()
				f()
				p.mu.Lock()
				p.active--
				idle := p.active == 0 && len(p.q) == 0
				p.mu.Unlock()
				if idle {
					p.cond.Broadcast()
				}
			}
		})
	}
	wg.Wait()
}

// copyFile copies a cache file into Out (a copy, not a link: whatever
// edits Out must not change the cache).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// forgetAfter is how long the state keeps a URL no run has seen: its cached
// body is removed with it.
const forgetAfter = 90 * 24 * time.Hour

// collect drops state entries unseen for forgetAfter and removes cache files
// that neither the state nor this run uses (pages made for articles and
// feeds that are gone), so the state folder does not grow for ever.
func (r *run) collect() {
	keep := map[string]bool{}
	for _, it := range r.items {
		keep[it.cache] = true
	}
	r.state.mu.Lock()
	for u, e := range r.state.URLs {
		if time.Since(e.Seen) > forgetAfter && !keep[e.Cache] {
			delete(r.state.URLs, u)
			continue
		}
		keep[e.Cache] = true
	}
	r.state.mu.Unlock()
	// Pages made from a cached article stay while the article's entry does.
	for u := range r.state.URLs {
		keep[cacheName("article:"+u)] = true
		keep[cacheName("feed-index:"+u)] = true
	}
	root := filepath.Join(r.o.StateDir, "cache")
	dirs, _ := os.ReadDir(root)
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(root, d.Name()))
		for _, f := range files {
			if !keep[f.Name()] {
				os.Remove(filepath.Join(root, d.Name(), f.Name()))
			}
		}
	}
}
