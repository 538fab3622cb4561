package mirror

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"ferry/internal/atomicfile"
)

// KnownFile is the name of what Get learned, inside GetDir.
const KnownFile = "known.json"

// Known is what the last Get learned of the origin's channels, kept in the
// library folder so the reader can show "a newer edition exists" after the
// connection is gone: LIBRARY/.get/known.json.
type Known struct {
	Format   int                     `json:"format"`
	Checked  time.Time               `json:"checked"` // when the last Get read an origin
	Channels map[string]KnownChannel `json:"channels"`
}

// KnownChannel is what a Get learned of one channel.
type KnownChannel struct {
	Title string `json:"title"`
	// Latest is the newest edition the origin had; Sequence the version of
	// its index (an older one later means a stale mirror).
	Latest   uint64    `json:"latest"`
	Sequence uint64    `json:"sequence"`
	Checked  time.Time `json:"checked"`
	// Held is the edition the library presented after that Get;
	// UpdateBytes what it still has to fetch to reach Latest (0 once it
	// has it), FullBytes the size of the full edition.
	Held        uint64 `json:"held"`
	UpdateBytes int64  `json:"update_bytes"`
	FullBytes   int64  `json:"full_bytes"`
	// Skipped says why the last Get did not fetch it.
	Skipped string `json:"skipped,omitempty"`
}

// ReadKnown reads what Get learned into the library in dir: an empty Known
// if no Get ran there. A damaged file is an error (the reader may show
// nothing then; the next Get writes it again).
func ReadKnown(dir string) (*Known, error) {
	b, err := os.ReadFile(filepath.Join(dir, GetDir, KnownFile))
	if os.IsNotExist(err) {
		return &Known{Format: 1, Channels: map[string]KnownChannel{}}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(b) > 4<<20 {
		return nil, fmt.Errorf("%s: %d bytes is not what get writes", KnownFile, len(b))
	}
	var k Known
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", KnownFile, err)
	}
	if k.Format != 1 {
		return nil, fmt.Errorf("%s: format %d (a newer ferry wrote it)", KnownFile, k.Format)
	}
	if k.Channels == nil {
		k.Channels = map[string]KnownChannel{}
	}
	return &k, nil
}

// Newer says whether the last Get saw an edition of channel newer than
// have (the edition the library presents), and what it knows of it.
func (k *Known) Newer(channel string, have uint64) (KnownChannel, bool) {
	c, ok := k.Channels[channel]
	return c, ok && c.Latest > have
}

func readKnown(dir string) *Known {
	k, err := ReadKnown(dir)
	if err != nil {
		return &Known{Format: 1, Channels: map[string]KnownChannel{}}
	}
	return k
}

// saveKnown records what this Get learned. Knowledge only grows: an origin
// with an older index does not make a newer edition unknown.
func (g *getter) saveKnown(res *Result) {
	now := g.opts.Now().UTC().Truncate(time.Second)
	g.known.Checked = now
	for _, cg := range res.Channels {
		if cg.Latest == 0 {
			continue
		}
		c := g.known.Channels[cg.Name]
		if cg.Latest >= c.Latest {
			c.Latest = cg.Latest
			c.Title = cg.Title
		}
		c.Checked, c.Sequence = now, max(c.Sequence, cg.seq)
		c.Held, c.FullBytes, c.Skipped = cg.Held, cg.FullBytes, cg.Skipped
		c.UpdateBytes = cg.PlanBytes
		if cg.Held >= c.Latest {
			c.UpdateBytes = 0
		}
		g.known.Channels[cg.Name] = c
	}
	b, err := json.MarshalIndent(g.known, "", " ")
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(g.dir, KnownFile), append(b, '\n'), 0o644)
	}
	if err != nil {
		g.log("could not keep what was learned: %v", err)
	}
}
