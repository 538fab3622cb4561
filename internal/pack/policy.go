package pack

import (
	"fmt"
	"strings"
	"sync"

	"ferry/internal/pack/images"
	"ferry/internal/scrub"
	"ferry/internal/source"
)

// policy is what Pack does to each entry's bytes before storing them:
// scrubbing (unless NoScrub), the image policy, then the caller's
// Transform. It counts what it did into the summary (the stage runs on
// several workers at once, hence the lock).
type policy struct {
	mu sync.Mutex
}

func (p *policy) chain(opts Options, sum *Summary) func(*source.Entry, []byte) ([]byte, error) {
	warn := opts.Warn
	if warn == nil {
		warn = func(string) {}
	}
	img := opts.Images
	next := opts.Transform
	if opts.NoScrub && img.Mode == ImagesKeep && next == nil {
		return nil
	}
	return func(e *source.Entry, data []byte) ([]byte, error) {
		if !opts.NoScrub {
			clean, findings, err := scrub.Scrub(e.Path, data)
			switch {
			case err != nil:
				p.say(warn, fmt.Sprintf("%s: not scrubbed (%v); packed as it is", e.Path, err))
			default:
				if scrub.HasWatermark(findings) {
					p.mu.Lock()
					sum.Watermarks++
					p.mu.Unlock()
					p.say(warn, fmt.Sprintf("%s carried a Red Star OS watermark (removed): %v", e.Path, findings))
				}
				data = clean
			}
		}
		switch img.Mode {
		case ImagesDrop:
			if strings.HasPrefix(strings.ToLower(e.MIME), "image/") {
				return nil, nil
			}
		case ImagesShrink:
			if images.IsImage(e.MIME) {
				out, err := images.Shrink(data, e.MIME, images.Options{MaxDim: img.MaxDim, Quality: img.Quality})
				if err != nil {
					// One hostile or giant picture must not stop a
					// weekly edition: it is packed as it came.
					p.say(warn, fmt.Sprintf("%s: not shrunk (%v); packed as it is", e.Path, err))
					out = data
				}
				if len(out) < len(data) {
					p.mu.Lock()
					sum.Shrunk++
					sum.ShrinkSaved += int64(len(data) - len(out))
					p.mu.Unlock()
				}
				data = out
			}
		}
		if next != nil {
			return next(e, data)
		}
		return data, nil
	}
}

// dropsType reports whether the profile or the image policy leaves out
// every entry of this MIME type, whatever its bytes. Pack asks before
// reading an entry, so the ones too large for Transform, which are
// streamed, are left out too: a radio edition never carries a film.
func dropsType(opts Options, mime string) bool {
	if opts.Profile == ProfileRadio && !textLike(mime) {
		return true
	}
	return opts.Images.Mode == ImagesDrop && strings.HasPrefix(strings.ToLower(mime), "image/")
}

// say passes a warning on (Pack makes Warn safe for concurrent use).
func (p *policy) say(warn func(string), msg string) { warn(msg) }

// lockedWarn makes a Warn callback safe to call from several goroutines:
// the callers' own need not be.
func lockedWarn(warn func(string)) func(string) {
	if warn == nil {
		return nil
	}
	var mu sync.Mutex
	return func(s string) {
		mu.Lock()
		defer mu.Unlock()
		warn(s)
	}
}
