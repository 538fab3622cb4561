package reader

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"ferry/internal/carry/peer"
	"ferry/internal/carry/peer/channel"
)

// "Share with a friend" (/share): the page starts what 'ferry sync
// --listen' does, for the library folder Options.ShareLibrary, and shows
// the same one-time code and QR code (a PNG made in Go, inline). Nothing
// listens until the reader presses the page's button (a POST carrying a
// secret of this process, from this origin only); it listens on loopback
// unless the reader was started on another address (Options.ShareHost),
// and the page says which, and that a friend's device cannot reach
// loopback. One session at a time; it ends after one sync, after three
// wrong codes, when nobody came within shareWait, or on Stop.
// docs/reader.md, "Share with a friend".

// shareWait is how long a started share waits for a device to connect.
const shareWait = 15 * time.Minute

// sharePort is the port tried first, the one 'ferry sync --listen' uses.
const sharePort = "4040"

type shareState struct {
	mu       sync.Mutex
	running  bool
	cancel   context.CancelFunc
	l        *peer.Listener
	info     shareInfo
	activity time.Time // the last progress event
}

// shareInfo is what the page shows of the current or last share.
type shareInfo struct {
	Running, Done, Expired bool
	Addr                   string // listened on
	Loopback               bool
	Code, Text             string // the code as shown, and FERRY-SYNC:...
	Others                 []string
	QR                     template.URL // data: URI of the PNG
	Busy                   string       // the archive under way
	Received, Sent         int
	RecvBytes, SentBytes   int64
	Err                    string
	Notes                  []string
}

type shareData struct {
	shareInfo
	Enabled   bool   // a library folder to share
	Token     string // the form's secret
	Command   string // what to run instead
	Minutes   int
	LocalOnly bool   // a share will listen on loopback
	Host      string // else the host it will listen on
}

func (h *Handler) sharePage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "")
	p.Title = p.T["shareTitle"]
	h.share.mu.Lock()
	d := shareData{shareInfo: h.share.info, Enabled: h.opts.ShareLibrary != "", Token: h.shareToken, Minutes: int(shareWait / time.Minute)}
	h.share.mu.Unlock()
	d.Command = "ferry sync --listen --addr 0.0.0.0:" + sharePort + " --library " + p.T["shareDir"]
	d.Host = h.opts.ShareHost
	ip := net.ParseIP(d.Host)
	d.LocalOnly = d.Host == "" || d.Host == "localhost" || ip != nil && ip.IsLoopback()
	if d.Running {
		p.Refresh = 5 // the code stays; the state below it changes
	}
	p.Data = d
	h.render(w, http.StatusOK, "share", p)
}

// shareForm checks a POST of the share page: its secret, and a small body.
func (h *Handler) shareForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	t := r.PostFormValue("t")
	if subtle.ConstantTimeCompare([]byte(t), []byte(h.shareToken)) != 1 {
		h.errorPage(w, r, http.StatusForbidden, "badRequest", "", "")
		return false
	}
	return true
}

func (h *Handler) shareStart(w http.ResponseWriter, r *http.Request) {
	if !h.shareForm(w, r) {
		return
	}
	if h.opts.ShareLibrary == "" {
		h.redirectSee(w, r, "/share")
		return
	}
	h.share.mu.Lock()
	defer h.share.mu.Unlock()
	if h.share.running {
		h.redirectSee(w, r, "/share")
		return
	}
	opts := peer.Options{Library: h.opts.ShareLibrary, Progress: h.shareEvent}
	l, err := h.shareListen(opts)
	if err != nil {
		h.share.info = shareInfo{Done: true, Err: err.Error()}
		h.redirectSee(w, r, "/share")
		return
	}
	in := shareInfo{Running: true, Addr: l.Addr().String(), Loopback: l.Loopback(),
		Code: l.Pairing().Code.Display(), Text: l.PairingText()}
	if hosts := l.Hosts(); len(hosts) > 1 {
		in.Others = hosts[1:]
	}
	if png, err := l.QRPNG(6); err == nil {
		in.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.share.running, h.share.cancel, h.share.l, h.share.info = true, cancel, l, in
	h.share.activity = time.Now()
	go h.shareRun(ctx, l)
	go h.shareTimeout(ctx)
	h.redirectSee(w, r, "/share")
}

// shareListen listens where the page says: loopback (the port 'ferry
// sync' uses, or a free one), or Options.ShareHost.
func (h *Handler) shareListen(opts peer.Options) (*peer.Listener, error) {
	if h.opts.ShareHost == "" {
		return peer.Listen("", opts)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(h.opts.ShareHost, sharePort))
	if errors.Is(err, syscall.EADDRINUSE) {
		ln, err = net.Listen("tcp", net.JoinHostPort(h.opts.ShareHost, "0"))
	}
	if err != nil {
		return nil, err
	}
	return peer.ListenOn(ln, opts)
}

// shareRun waits for one session and records what it did.
func (h *Handler) shareRun(ctx context.Context, l *peer.Listener) {
	sum, err := l.Serve(ctx)
	l.Close()
	h.share.mu.Lock()
	defer h.share.mu.Unlock()
	h.share.cancel()
	in := &h.share.info
	in.Running, in.Done, in.Busy = false, true, ""
	in.Code, in.Text, in.QR, in.Others = "", "", "", nil // used up
	if sum != nil {
		in.Received, in.Sent = len(sum.Received), len(sum.Sent)
		for _, t := range sum.Received {
			in.RecvBytes += t.Size
		}
		for _, t := range sum.Sent {
			in.SentBytes += t.Size
		}
		in.Notes = append(in.Notes, sum.Notes...)
		for _, f := range sum.Failed {
			in.Notes = append(in.Notes, fmt.Sprintf("%s %d: %v", f.Channel, f.Edition, f.Err))
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded):
		in.Expired = true
	case errors.Is(err, context.Canceled):
		// Stopped by the reader (or the reader closed).
	case errors.Is(err, channel.ErrTooManyFailures):
		in.Err = err.Error()
	default:
		in.Err = err.Error()
	}
	h.share.running, h.share.l = false, nil
}

// shareTimeout stops a share nobody has used for shareWait.
func (h *Handler) shareTimeout(ctx context.Context) {
	t := time.NewTimer(shareWait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.share.mu.Lock()
		idle := time.Since(h.share.activity)
		if idle >= shareWait && h.share.running {
			h.share.info.Expired = true
			h.share.cancel()
			h.share.mu.Unlock()
			return
		}
		h.share.mu.Unlock()
		t.Reset(shareWait - idle)
	}
}

// shareEvent follows a session's progress for the page.
func (h *Handler) shareEvent(e peer.Event) {
	h.share.mu.Lock()
	defer h.share.mu.Unlock()
	h.share.activity = time.Now()
	switch e.Kind {
	case peer.EventStart, peer.EventProgress:
		dir := "→ "
		if e.Receiving {
			dir = "← "
		}
		h.share.info.Busy = fmt.Sprintf("%s%s (%s / %s)", dir, e.Label(), humanSize(min(e.Done, e.Total)), humanSize(e.Total))
	case peer.EventNote:
		if len(h.share.info.Notes) < 20 {
			h.share.info.Notes = append(h.share.info.Notes, e.Text)
		}
	}
}

func (h *Handler) shareStop(w http.ResponseWriter, r *http.Request) {
	if !h.shareForm(w, r) {
		return
	}
	h.stopShare()
	h.redirectSee(w, r, "/share")
}

// stopShare ends a share under way, if any, and waits until it has.
func (h *Handler) stopShare() {
	h.share.mu.Lock()
	cancel := h.share.cancel
	running := h.share.running
	h.share.mu.Unlock()
	if !running || cancel == nil {
		return
	}
	cancel()
	for i := 0; i < 100; i++ {
		h.share.mu.Lock()
		running = h.share.running
		h.share.mu.Unlock()
		if !running {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Close stops a share of the "share with a friend" page that is under
// way. The handler still serves afterwards.
func (h *Handler) Close() error {
	h.stopShare()
	return nil
}

// redirectSee answers a form with 303 to a path of the reader.
func (h *Handler) redirectSee(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, settingsOf(r).prefix()+to, http.StatusSeeOther)
}

const shareTmpl = `{{define "body"}}
<h1>{{.T.shareTitle}}</h1>
<p class="fp-lead">{{.T.shareIntro}}</p>
{{with .Data}}{{if not .Enabled}}
<p class="fp-warn">{{$.T.shareNoLibrary}}</p>
<pre class="fp-cmd">{{.Command}}</pre>
{{else if .Running}}
<section class="fp-lib fp-share">
<p>{{$.T.shareCode}}: <strong class="fp-code">{{.Code}}</strong></p>
{{if .QR}}<p><img class="fp-qr" src="{{.QR}}" alt="{{.Text}}" width="240" height="240"></p>{{end}}
<p>{{$.T.shareScan}}</p>
<pre class="fp-cmd">ferry sync {{.Text}}</pre>
{{if .Loopback}}<p class="fp-warn">{{$.F "shareLoopback" .Addr}}</p>
{{else}}<p class="fp-warn">{{$.F "shareNetwork" .Addr}}</p>
<p>{{$.T.shareSameNet}}</p>
{{if .Others}}<p>{{$.T.shareOthers}} {{range .Others}}<code>{{.}}</code> {{end}}</p>{{end}}{{end}}
{{if .Busy}}<p><strong>{{$.T.shareBusy}}</strong> {{.Busy}}</p>{{else}}<p>{{$.T.shareWaiting}}</p>{{end}}
<form action="{{$.URL "/share/stop"}}" method="post"><input type="hidden" name="t" value="{{.Token}}"><button class="fp-btn fp-stop" type="submit">{{$.T.shareStop}}</button></form>
</section>
{{else}}
{{if .Done}}<section class="fp-lib">
{{if .Expired}}<p class="fp-warn">{{$.F "shareExpired" .Minutes}}</p>{{end}}
{{if .Err}}<p class="fp-bad">{{$.T.shareFailed}}</p><p class="fp-err">{{.Err}}</p>{{end}}
<p>{{$.F "shareDone" .Received (size .RecvBytes) .Sent (size .SentBytes)}}</p>
{{if .Received}}<p>{{$.T.shareRestart}}</p>{{end}}
{{range .Notes}}<p class="fp-warn">{{.}}</p>{{end}}
</section>{{end}}
<p>{{$.T.shareWrites}}</p>
{{if .LocalOnly}}<p class="fp-warn">{{$.T.shareLocalOnly}}</p>
<p>{{$.T.shareInstead}}</p>
<pre class="fp-cmd">{{.Command}}</pre>
{{else}}<p class="fp-warn">{{$.F "shareOnNetwork" .Host}}</p>
<p>{{$.T.shareSameNet}}</p>{{end}}
<form action="{{$.URL "/share/start"}}" method="post"><input type="hidden" name="t" value="{{.Token}}"><button class="fp-btn" type="submit">{{$.T.shareStart}}</button></form>
{{end}}{{end}}
<p><a href="{{.URL "/"}}">{{.T.backHome}}</a></p>
{{end}}`
